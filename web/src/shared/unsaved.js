// Unsaved edits warn before the page is left (a link, the back button, closing the tab): the browser's own
// "离开此网站？" question, asked only while something was changed and not yet published.
export function guardUnsaved(target = window) {
  let dirty = false;
  target.addEventListener('beforeunload', (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = ''; // older browsers ask only when a return value is set
  });
  return {
    changed() { dirty = true; },
    saved() { dirty = false; },
    get dirty() { return dirty; },
  };
}
