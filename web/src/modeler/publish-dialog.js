// 发布 asks what changed and why: the note is kept with the version and shown in its history (流程设计 → 版本记录).
// One dialog per page, kept between openings, so a note typed before a cancelled or failed publish is not lost.
export const NOTE_LIMIT = 2000; // as the server's (domain/text.py TEXT_LENGTH)

function build(root) {
  const dialog = document.createElement('dialog');
  dialog.className = 'publish-dialog';
  dialog.setAttribute('aria-labelledby', 'publish-dialog-title');
  dialog.innerHTML = `
    <form method="dialog">
      <h2 id="publish-dialog-title">发布新版本</h2>
      <p class="publish-dialog-hint">发布后，新办件按新版本办理；正在办理的案件不受影响。</p>
      <p class="publish-dialog-warnings" hidden></p>
      <label for="publish-note">变更说明（必填）：改了什么、为什么</label>
      <textarea id="publish-note" name="note" rows="4" maxlength="${NOTE_LIMIT}"
        placeholder="例如：审核环节改名为复核，按 2026 年经办规程"></textarea>
      <p class="publish-dialog-error" role="alert" hidden></p>
      <div class="publish-dialog-buttons">
        <button type="submit" class="btn btn-primary" value="publish">确认发布</button>
        <button type="submit" class="btn" value="cancel" formnovalidate>取消</button>
      </div>
    </form>`;
  root.append(dialog);
  return dialog;
}

/** The problem with `note` as the server would see it, or null. */
export function noteProblem(note) {
  if (!note.trim()) return '请写明本次改了什么、为什么';
  if (note.length > NOTE_LIMIT) return `变更说明不能超过 ${NOTE_LIMIT} 个字符（现有 ${note.length} 个）`;
  return null;
}

/** Opens the dialog; resolves to the note (trimmed), or null when the designer cancels. */
export function askChangeNote(root, warnings = 0) {
  const dialog = root.querySelector('dialog.publish-dialog') || build(root);
  const note = dialog.querySelector('textarea');
  const error = dialog.querySelector('.publish-dialog-error');
  const warning = dialog.querySelector('.publish-dialog-warnings');
  warning.hidden = !warnings;
  warning.textContent = warnings ? `检查发现 ${warnings} 个警告，仍可发布。` : '';
  error.hidden = true;
  return new Promise((resolve) => {
    const form = dialog.querySelector('form');
    const onSubmit = (event) => {
      const cancel = event.submitter && event.submitter.value === 'cancel';
      const problem = cancel ? null : noteProblem(note.value);
      if (problem) {
        event.preventDefault(); // the dialog stays open, the text as typed
        error.textContent = problem;
        error.hidden = false;
        note.focus();
        return;
      }
      finish(cancel ? null : note.value.trim());
    };
    const onCancel = () => finish(null);
    function finish(value) {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('cancel', onCancel);
      resolve(value);
    }
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', onCancel); // Esc
    dialog.showModal();
    note.focus();
  });
}
