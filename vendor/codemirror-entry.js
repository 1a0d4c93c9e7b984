// One ES module with what the console's editor uses (bundled by `make vendor`).
export { EditorState, Compartment } from "@codemirror/state";
export { EditorView, keymap, lineNumbers, highlightActiveLine } from "@codemirror/view";
export { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
export { sql, StandardSQL } from "@codemirror/lang-sql";
export { autocompletion, completionKeymap } from "@codemirror/autocomplete";
export { linter, lintGutter, forceLinting } from "@codemirror/lint";
export { syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
