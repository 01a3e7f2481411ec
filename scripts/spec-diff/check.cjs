// The breaking-change check of the API description (docs/api.md, "Versioning").
//
//   node check.cjs BASELINE CURRENT CHANGES_MD
//
// Compares two OpenAPI documents with api-smart-diff (which classifies each difference as
// breaking, non-breaking, annotation or unclassified, by where it is: a new required request
// field is breaking, a new response field is not). Exit 0 when every breaking difference is
// allowed: either it adds a value to an enum of a response (our enums in responses are open:
// docs/api.md), or its operation (`METHOD /path`) or path (`/path`) is listed in CHANGES_MD under
// its "## Unreleased" heading, as a backticked key at the start of a list item. Exit 1 otherwise,
// naming each unlisted change. `node check.cjs --self-test SPEC` proves the check fails on
// breaking changes and passes on additive ones (run by `scripts/spec-diff.sh`).

"use strict";

const fs = require("fs");
const { apiCompare } = require("api-smart-diff");

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** The operation (`POST /v1/feedback`), the path (`/v1/feedback`) or the pointer a difference is in. */
function keyOf(path) {
  if (path[0] === "paths" && path.length >= 2) {
    if (path.length >= 3 && METHODS.has(path[2])) return `${path[2].toUpperCase()} ${path[1]}`;
    return path[1];
  }
  if (path[0] === "webhooks" && path.length >= 2) return `webhook ${path[1]}`;
  return path.join("/");
}

/** Where in its operation the difference is, for people. */
function whereOf(path) {
  const start = path[0] === "paths" || path[0] === "webhooks" ? (METHODS.has(path[2]) ? 3 : 2) : path.length;
  return path.slice(start).join("/") || "(the whole of it)";
}

/** A value added to an enum of a response: allowed, our response enums are open. */
function isOpenEnumAddition(d) {
  const p = d.path;
  return d.action === "add" && p.includes("responses") && p[p.length - 2] === "enum";
}

/**
 * A type changed in a response, which api-smart-diff (classifying responses as the reverse of
 * requests) calls non-breaking: it is breaking unless every type the response may now have was
 * already possible (a client parses what it parsed before).
 */
function isResponseTypeChange(d) {
  const p = d.path;
  if (d.action !== "replace" || p[0] !== "paths" || !p.includes("responses") || p[p.length - 1] !== "type") return false;
  const before = new Set([].concat(d.before));
  return ![].concat(d.after).every((t) => before.has(t));
}

/** The keys listed under "## Unreleased" in the changes file: `- \`KEY\`…` items. */
function listedKeys(markdown) {
  const keys = new Set();
  let inUnreleased = false;
  for (const line of markdown.split("\n")) {
    if (/^## /.test(line)) inUnreleased = /^## Unreleased\b/.test(line);
    if (!inUnreleased) continue;
    const m = /^\s*[-*] `([^`]+)`/.exec(line);
    if (m) keys.add(m[1].trim());
  }
  return keys;
}

/** The breaking differences from `before` to `after` that `listed` does not allow. */
function unlisted(before, after, listed) {
  const { diffs } = apiCompare(before, after);
  const out = [];
  let allowed = 0;
  let open = 0;
  for (const d of diffs) {
    if (d.type !== "breaking" && !isResponseTypeChange(d)) continue;
    // Components are reached through the operations that use them: each use is reported there.
    if (d.path[0] === "components" && d.path[1] === "schemas") continue;
    if (isOpenEnumAddition(d)) {
      open += 1;
      continue;
    }
    const key = keyOf(d.path);
    // A listed path covers every operation under it.
    const path = key.includes(" ") ? key.split(" ").slice(1).join(" ") : key;
    if (listed.has(key) || listed.has(path)) {
      allowed += 1;
      continue;
    }
    out.push({ key, action: d.action, where: whereOf(d.path) });
  }
  return { out, allowed, open, total: diffs.length };
}

function report(result) {
  const byKey = new Map();
  for (const c of result.out) {
    if (!byKey.has(c.key)) byKey.set(c.key, []);
    byKey.get(c.key).push(`${c.action} ${c.where}`);
  }
  for (const [key, changes] of byKey) {
    console.error(`breaking: ${key}`);
    for (const c of changes.slice(0, 10)) console.error(`    ${c}`);
    if (changes.length > 10) console.error(`    … and ${changes.length - 10} more`);
  }
  return byKey.size;
}

function selfTest(specFile) {
  const spec = JSON.parse(fs.readFileSync(specFile, "utf8"));
  // A small document keeps the self-test fast: two operations and every component.
  const keep = ["/v1/feedback", "/v1/feedback/services", "/v1/activity-kinds"];
  const base = { ...spec, paths: Object.fromEntries(keep.map((p) => [p, spec.paths[p]])) };
  for (const p of keep) if (!base.paths[p]) throw new Error(`self-test: ${p} is not in the spec`);
  const copy = () => JSON.parse(JSON.stringify(base));
  const cases = [
    ["nothing changed", (m) => m, 0],
    ["a response field added", (m) => { m.components.schemas.FeedbackView.properties.extra = { type: "string" }; }, 0],
    ["an operation added", (m) => { m.paths["/v1/feedback/other"] = { get: { operationId: "x", responses: { 200: { description: "ok" } } } }; }, 0],
    ["an optional request field added", (m) => { m.components.schemas.CreateFeedback.properties.note = { type: "string" }; }, 0],
    ["a value added to a response enum", (m) => { m.components.schemas.ActivityKind.enum.push("example.added"); }, 0],
    ["an operation removed", (m) => { delete m.paths["/v1/feedback/services"]; }, 1],
    ["a required request field added", (m) => {
      const s = m.components.schemas.CreateFeedback;
      s.properties.rating = { type: "integer" };
      s.required.push("rating");
    }, 1],
    ["a response field removed", (m) => { delete m.components.schemas.FeedbackView.properties.message; }, 1],
    ["a field's type changed", (m) => { m.components.schemas.FeedbackView.properties.id.type = "integer"; }, 1],
    ["stricter validation", (m) => { m.components.schemas.CreateFeedback.properties.message.maxLength = 100; }, 1],
  ];
  let failed = 0;
  for (const [name, mutate, expected] of cases) {
    const after = copy();
    mutate(after);
    const got = new Set(unlisted(base, after, new Set()).out.map((c) => c.key)).size;
    const ok = expected === 0 ? got === 0 : got > 0;
    if (!ok) failed += 1;
    console.log(`self-test: ${ok ? "ok  " : "FAIL"} ${name}: ${got} unlisted breaking change(s)`);
  }
  // Listed, a breaking change passes: by operation, or by path.
  const removed = copy();
  delete removed.paths["/v1/feedback/services"];
  const req = copy();
  req.components.schemas.CreateFeedback.required.push("rating");
  req.components.schemas.CreateFeedback.properties.rating = { type: "integer" };
  const md = "# Changes\n\n## Unreleased\n\n- `GET /v1/feedback/services`: gone.\n- `/v1/feedback`: a new required field.\n\n## 2026-12-01\n\n- `GET /v1/activity-kinds`: old.\n";
  const listed = listedKeys(md);
  for (const [name, after] of [["a listed removal", removed], ["a listed path", req]]) {
    const got = unlisted(base, after, listed).out.length;
    if (got !== 0) failed += 1;
    console.log(`self-test: ${got === 0 ? "ok  " : "FAIL"} ${name} passes`);
  }
  // Only the Unreleased section counts.
  const gone = copy();
  delete gone.paths["/v1/activity-kinds"];
  const got = unlisted(base, gone, listed).out.length;
  if (got === 0) failed += 1;
  console.log(`self-test: ${got > 0 ? "ok  " : "FAIL"} an entry of a released section does not count`);
  return failed;
}

function main(argv) {
  if (argv[0] === "--self-test") {
    const failed = selfTest(argv[1]);
    if (failed) {
      console.error(`spec-diff self-test: ${failed} case(s) failed`);
      return 1;
    }
    console.log("spec-diff self-test: the check fails on breaking changes and passes on additive ones");
    return 0;
  }
  const [baselineFile, currentFile, changesFile] = argv;
  const before = JSON.parse(fs.readFileSync(baselineFile, "utf8"));
  const after = JSON.parse(fs.readFileSync(currentFile, "utf8"));
  const listed = listedKeys(fs.existsSync(changesFile) ? fs.readFileSync(changesFile, "utf8") : "");
  const result = unlisted(before, after, listed);
  const n = report(result);
  const summary = `${result.total} difference(s) from ${baselineFile}; breaking: ${result.allowed} listed in ${changesFile}, ${result.open} open-enum value(s) added`;
  if (n > 0) {
    console.error(summary);
    console.error(
      `spec-diff: ${n} operation(s) changed in a breaking way and not listed under "## Unreleased" in ${changesFile}.\n` +
        "Make the change additive (docs/api.md, \"What may change within /v1\"), or list each one as\n" +
        "  - `METHOD /path`: what changed, why, and what a client does about it.",
    );
    return 1;
  }
  console.log(summary);
  console.log("spec-diff: no unlisted breaking change");
  return 0;
}

process.exitCode = main(process.argv.slice(2));
