// The SQL editor: CodeMirror 6 with highlighting, autocomplete from the catalog and
// inline errors from POST /api/v1/validate (line and column).
import {
  EditorState, Compartment, EditorView, keymap, lineNumbers, highlightActiveLine,
  defaultKeymap, history, historyKeymap, sql, StandardSQL, autocompletion, completionKeymap,
  linter, lintGutter, syntaxHighlighting, defaultHighlightStyle, bracketMatching,
} from "./vendor/codemirror.js";
import { api } from "./api.js";

const schema = new Compartment();

async function validate(view) {
  const text = view.state.doc.toString();
  if (!text.trim()) return [];
  let result;
  try {
    result = await api("/validate", { method: "POST", body: { sql: text } });
  } catch {
    return [];
  }
  return result.errors.map((e) => {
    const doc = view.state.doc;
    const line = doc.line(Math.min(Math.max(e.line || 1, 1), doc.lines));
    const from = Math.min(line.from + Math.max((e.column || 1) - 1, 0), line.to);
    const to = Math.max(from + 1, line.to);
    return { from, to: Math.min(to, doc.length), severity: "error", message: e.error };
  });
}

// Mounted in a shadow root: CodeMirror then styles it with constructed style sheets,
// which the page's Content-Security-Policy (default-src 'self') allows; in the document
// it would insert <style> elements, which the policy blocks.
const theme = EditorView.theme({
  "&": { minHeight: "220px", fontSize: "14px", backgroundColor: "#fff" },
  ".cm-scroller": { fontFamily: "ui-monospace, monospace" },
});

export function createEditor(host, initial) {
  const shadow = host.attachShadow({ mode: "open" });
  const parent = document.createElement("div");
  shadow.append(parent);
  const view = new EditorView({
    parent,
    root: shadow,
    state: EditorState.create({
      doc: initial,
      extensions: [
        theme, lineNumbers(), highlightActiveLine(), history(), bracketMatching(),
        syntaxHighlighting(defaultHighlightStyle),
        schema.of(sql({ dialect: StandardSQL })),
        autocompletion(),
        lintGutter(),
        linter(validate, { delay: 400 }),
        keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    setSchema: (relations) =>
      view.dispatch({ effects: schema.reconfigure(sql({ dialect: StandardSQL, schema: relations })) }),
  };
}
