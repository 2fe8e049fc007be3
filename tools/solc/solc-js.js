#!/usr/bin/env node
// Offline Solidity compiler for Brownie: answers the two calls py-solc-x makes of a solc binary
// (`--version` and `--standard-json` on stdin) with the official WebAssembly build from npm.
// tools/solc/bin/solc-v<version> is a shim that runs this file; see tools/solc/README.md.
'use strict';
const fs = require('fs');
const path = require('path');

const repoRoot = path.resolve(__dirname, '..', '..');
const solc = require(path.join(repoRoot, 'node_modules', 'solc'));

function writeAllSync(fd, text) {
  // A plain process.stdout.write followed by exit cut the JSON at 64 KiB on a pipe;
  // fs.writeSync in a loop drains the whole buffer before the process ends.
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

function findImport(importPath) {
  // Remappings are applied by the compiler; what reaches us is a path relative to the
  // project (or node_modules), resolved against the allowed roots only.
  const roots = [process.cwd(), repoRoot, path.join(repoRoot, 'node_modules')];
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

function main(argv) {
  if (argv.includes('--version')) {
    writeAllSync(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (argv.includes('--standard-json')) {
    const input = fs.readFileSync(0, 'utf8');
    const output = solc.compile(input, { import: findImport });
    writeAllSync(1, output);
    return 0;
  }
  writeAllSync(2, 'usage: solc --version | solc --standard-json < input.json\n');
  return 2;
}

process.exitCode = main(process.argv.slice(2));
