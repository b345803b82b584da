// Regenerates mailbox-fixture.json from the real engine: imports tests/fixtures/activities/ into a
// temporary case with the `tidemark` CLI and records what `tidemark mailbox … --json` answers (the
// stream with its sessions, and the five legacy reports with their exact columns).
//
//   node tests/lib/make-mailbox-fixture.mjs [path/to/tidemark]   (default: ../target/debug/tidemark)

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..", "..");
const bin = process.argv[2] ?? path.join(root, "target", "debug", "tidemark");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tidemark-mbx-"));
const cas = path.join(dir, "bec.tidemark");
const UPN = "adele.vance@contoso.example";
const run = (...args) => execFileSync(bin, args, { encoding: "utf8", maxBuffer: 64 << 20 });

run("case", "new", cas, "--name", "Contoso BEC", "--operator", "investigator");
run("import", cas, path.join(root, "tests", "fixtures", "activities"), "--operator", "investigator");
const lines = (s) => s.split("\n").filter((l) => l.trim() !== "");

const stream = lines(run("mailbox", cas, UPN, "--json", "--limit", "1000")).map((l) => JSON.parse(l));
const entries = stream.filter((x) => "action" in x);
const sessions = stream.filter((x) => "kind" in x && !("action" in x));

const reports = {};
for (const kind of ["logons", "reads-by-time", "reads-by-item", "searches", "attachments"]) {
  const header = lines(run("mailbox", cas, UPN, "--report", kind, "--limit", "1"))[0];
  const rows = lines(run("mailbox", cas, UPN, "--report", kind, "--json", "--limit", "1000")).map((l) => JSON.parse(l));
  reports[kind] = { columns: header.split("\t"), rows };
}
const out = { mailbox: UPN, generated_by: `${path.basename(bin)} mailbox (tests/fixtures/activities)`, entries, sessions, reports };
fs.writeFileSync(path.join(here, "mailbox-fixture.json"), JSON.stringify(out, null, 1) + "\n");
fs.rmSync(dir, { recursive: true, force: true });
console.log(`${entries.length} entries, ${sessions.length} sessions, reports: ${Object.entries(reports).map(([k, r]) => `${k} ${r.rows.length}`).join(", ")}`);
