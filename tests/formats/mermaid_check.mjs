// Parse Mermaid texts with Mermaid's own parser, headless (jsdom stands in for the DOM);
// run by tests/formats/test_diagrams.py when CONVCALC_MERMAID names such directories.
// argv[2]: a directory whose node_modules hold mermaid and jsdom (npm install mermaid jsdom).
// stdin: a JSON list of texts; stdout: a JSON list of {error} or {version, nodes, edges, subgraphs}
// (Mermaid 9 has no diagram API to read them back: {version} only, once parsed).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const require = createRequire(join(dir, 'package.json'));
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/mermaid/package.json'), 'utf8'));
const entry = pkg.exports?.['.']?.import ?? pkg.module;
const mod = await import(pathToFileURL(join(dir, 'node_modules/mermaid', entry)).href);
const mermaid = mod.default;
// The syntax is checked past the 500 edges a page allows by default (docs/output.md#mermaid).
mermaid.initialize({ startOnLoad: false, maxEdges: 1000000, maxTextSize: 10000000 });
const texts = JSON.parse(readFileSync(0, 'utf8'));
const out = [];
for (const text of texts) {
  try {
    const ok = await mermaid.parse(text);
    if (ok === false) throw new Error('parse returned false');
    const api = mermaid.mermaidAPI;
    if (!api.getDiagramFromText) { out.push({ version: pkg.version }); continue; }
    const db = (await api.getDiagramFromText(text)).db;
    const v = db.getVertices();
    const vertices = v instanceof Map ? [...v.values()] : Object.values(v);
    out.push({
      version: pkg.version,
      nodes: vertices.map(n => ({ id: n.id, text: n.text })),
      edges: db.getEdges().map(e => ({ start: e.start, end: e.end, text: e.text })),
      subgraphs: db.getSubGraphs().map(s => ({ id: s.id, title: s.title, nodes: s.nodes })),
    });
  } catch (e) {
    out.push({ error: String(e?.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(out));
