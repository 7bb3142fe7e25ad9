// Parses an AsyncAPI document with the official parser, npm `@asyncapi/parser` 3, and prints what
// it saw as one JSON object: every diagnostic, and how many channels, operations, messages and
// component schemas the parsed document holds (so that a caller can tell "parsed" from "parsed
// something else").
//
// Usage: node asyncapi_parse.mjs <node_modules folder holding @asyncapi/parser> <document.json>

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [modules, file] = process.argv.slice(2);
if (!modules || !file) {
  console.error("usage: node asyncapi_parse.mjs <node_modules> <document.json>");
  process.exit(2);
}
// The parser lives in a folder of its own, not beside this script: load it from there.
const require = createRequire(join(modules, "..", "noop.js"));
const { Parser } = require("@asyncapi/parser");

const { document, diagnostics } = await new Parser().parse(readFileSync(file, "utf8"));
const count = (collection) => (collection ? collection.length : null);
console.log(
  JSON.stringify({
    // Severity as @stoplight/types numbers it: 0 error, 1 warning, 2 information, 3 hint.
    diagnostics: diagnostics.map((d) => ({
      severity: d.severity,
      code: d.code,
      message: d.message,
      path: (d.path || []).join("/"),
    })),
    parsed: document !== undefined,
    channels: document ? count(document.channels()) : null,
    operations: document ? count(document.operations()) : null,
    messages: document ? count(document.messages()) : null,
    componentSchemas: document ? count(document.components().schemas()) : null,
  }),
);
