// Stands in for CodeMirror and the FEEL / feelers editors inside the properties panel (build.mjs points their
// imports here). Our engine reads Python and a JUEL subset in BPMN properties, never FEEL (FEEL lives only in the
// decision tables, edited by dmn-js), so a FEEL-aware code editor is 500 KB of bundle that helps nobody: a field
// that still opens as a FEEL entry gets a plain, multi-line text box with the same API the panel calls.

/** The editor the panel creates for FEEL (`new Editor(...)`) and templating (`new FeelersEditor(...)`) entries. */
export default class PlainEditor {
  constructor({ container, value = '', onChange, onKeyDown, placeholder, readOnly, extensions = [] } = {}) {
    const input = document.createElement('textarea');
    input.className = 'workflows-plain-editor';
    input.rows = 2;
    input.spellcheck = false;
    input.value = value;
    input.readOnly = Boolean(readOnly);
    if (placeholder) input.placeholder = placeholder;
    input.addEventListener('input', () => onChange && onChange(input.value));
    if (onKeyDown) input.addEventListener('keydown', onKeyDown);
    for (const extension of extensions.flat()) {
      for (const [event, handler] of Object.entries((extension && extension.domEventHandlers) || {})) {
        input.addEventListener(event, handler);
      }
    }
    container.append(input);
    this._input = input;
  }

  setValue(value) { this._input.value = value || ''; }

  focus() { this._input.focus(); }

  getSelection() {
    const { selectionStart: from, selectionEnd: to } = this._input;
    return { mainIndex: 0, ranges: [{ from, to }] };
  }

  setPlaceholder(placeholder) { this._input.placeholder = placeholder || ''; }

  setVariables() {}

  setEngines() {}
}

export { PlainEditor as FeelersEditor };

// What the panel takes from @codemirror/*: extension factories (their results are only handed back to an editor)
// and EditorView for its JSON popup, which the Camunda 7 groups never open.
const extension = (value) => () => ({ value });
export const highlightSpecialChars = extension('highlightSpecialChars');
export const drawSelection = extension('drawSelection');
export const placeholder = (text) => ({ placeholder: text });
export const lineNumbers = extension('lineNumbers');
export const syntaxHighlighting = extension('syntaxHighlighting');
export const defaultHighlightStyle = {};
export const foldGutter = extension('foldGutter');
export const bracketMatching = extension('bracketMatching');
export const closeBrackets = extension('closeBrackets');
export const history = extension('history');
export const json = extension('json');
export const jsonParseLinter = extension('jsonParseLinter');
export const linter = extension('linter');
export const foldKeymap = [];
export const closeBracketsKeymap = [];
export const defaultKeymap = [];
export const historyKeymap = [];
export const keymap = { of: (bindings) => ({ keymap: bindings }) };
export const Annotation = { define: () => ({ of: (value) => ({ value }) }) };
export const EditorState = { tabSize: { of: (size) => ({ tabSize: size }) }, readOnly: { of: (on) => ({ readOnly: on }) } };

export class EditorView extends PlainEditor {
  constructor({ parent, doc = '' } = {}) {
    super({ container: parent, value: doc });
  }

  destroy() { this._input.remove(); }
}
EditorView.lineWrapping = {};
EditorView.domEventHandlers = (handlers) => ({ domEventHandlers: handlers });
EditorView.updateListener = { of: (listener) => ({ updateListener: listener }) };
EditorView.theme = () => ({});
