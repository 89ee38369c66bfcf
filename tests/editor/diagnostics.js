// Prints the diagnostics yaml-language-server gives for one YAML file, as a JSON array of
// {line, character, message}, the way an editor shows them: the file is opened over the
// Language Server Protocol (stdio), with the schema given as the editor's glob setting.
//
//   node diagnostics.js SCHEMA.json FILE.yaml
//
// Used by tests/suite/manifest/editor.rs. Exits 2 when no diagnostics arrive in 30 s.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

const [schemaPath, filePath] = process.argv.slice(2);
const schema = pathToFileURL(path.resolve(schemaPath)).href;
const uri = pathToFileURL(path.resolve(filePath)).href;
const server = spawn("yaml-language-server", ["--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
const settings = { yaml: { validate: true, schemas: { [schema]: [path.resolve(filePath)] } } };

function send(message) {
  const body = JSON.stringify(Object.assign({ jsonrpc: "2.0" }, message));
  server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

let pending = Buffer.alloc(0);
server.stdout.on("data", (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  for (;;) {
    const end = pending.indexOf("\r\n\r\n");
    if (end < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(pending.slice(0, end).toString())[1]);
    if (pending.length < end + 4 + length) return;
    const message = JSON.parse(pending.slice(end + 4, end + 4 + length).toString());
    pending = pending.slice(end + 4 + length);
    receive(message);
  }
});

let settled = null;
let last = null;
function receive(message) {
  if (message.id === 1 && message.result) {
    send({ method: "initialized", params: {} });
    send({ method: "workspace/didChangeConfiguration", params: { settings } });
    send({
      method: "textDocument/didOpen",
      params: { textDocument: { uri, languageId: "yaml", version: 1, text: fs.readFileSync(filePath, "utf8") } },
    });
    return;
  }
  if (message.method === "workspace/configuration") {
    send({ id: message.id, result: message.params.items.map((item) => (item.section === "yaml" ? settings.yaml : null)) });
    return;
  }
  if (message.method === "textDocument/publishDiagnostics" && message.params.uri === uri) {
    // The server may publish more than once (before and after loading the schema): the last
    // one after a quiet second is what the editor shows.
    last = message.params.diagnostics.map((d) => ({
      line: d.range.start.line + 1,
      character: d.range.start.character + 1,
      message: d.message,
    }));
    clearTimeout(settled);
    settled = setTimeout(finish, 1000);
    return;
  }
  if (message.id !== undefined && message.method) {
    send({ id: message.id, result: null });
  }
}

function finish() {
  process.stdout.write(JSON.stringify(last, null, 1) + "\n");
  server.kill();
  process.exit(0);
}

setTimeout(() => {
  server.kill();
  process.exit(2);
}, 30000);

send({
  id: 1,
  method: "initialize",
  params: { processId: process.pid, rootUri: null, capabilities: { workspace: { configuration: true } } },
});
