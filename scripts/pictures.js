#!/usr/bin/env node
// `npm run pictures`: draws the wiring of each environment (README.md) and of the example team app
// (examples/team-app/README.md) from their synthesized manifests, between the READMEs' marker
// comments (what is drawn, and why from the manifests: test/support/wiring.ts).
// --check writes nothing and exits 1 naming each picture that differs from the code.
// A script of its own, not a step of the synth: the synth's speed is a benchmarked figure, and the
// pictures change only when the wiring does (test/pictures.test.ts says when).
const fs = require('fs');
const Module = require('module');
const path = require('path');
require('./run-ts');
const { pictureBlock, stalePictures, toMermaid, wiringOf, withReadmeBlock } = require('../test/support/wiring.ts');

const root = path.resolve(__dirname, '..');
const EXAMPLE = path.join(root, 'examples', 'team-app');
const OPTIONS = ['--check'];
const options = process.argv.slice(2);
for (const option of options) {
  if (!OPTIONS.includes(option)) {
    console.error(`pictures: unknown option ${option} (options: ${OPTIONS.join(', ')})`);
    process.exit(1);
  }
}

/** Each environment of main.ts: its chart's objects, synthesized in memory. */
function environments() {
  const { buildApp } = require(path.join(root, 'main.ts'));
  return buildApp().charts.map((chart) => ({ readme: 'README.md', key: chart.node.id, objects: chart.toJson() }));
}

/**
 * The example team app from its source, in memory: its `cdk8s-platform-stack` is this repository's
 * lib/ (as the package would be), its other packages the repository's copies (one cdk8s, as a local
 * install gives it), and its `app.synth()` hands over the app instead of writing dist/.
 */
function teamApp() {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    if (!parent?.filename?.startsWith(EXAMPLE + path.sep) || request.startsWith('.')) return resolve.call(this, request, parent, ...rest);
    return request === 'cdk8s-platform-stack' ? path.join(root, 'lib', 'index.ts') : resolve.call(this, request, module, ...rest);
  };
  const { App } = require('cdk8s');
  const synth = App.prototype.synth;
  const synthesized = [];
  App.prototype.synth = function () {
    synthesized.push(...this.charts.flatMap((chart) => chart.toJson()));
  };
  try {
    require(path.join(EXAMPLE, 'main.ts'));
  } finally {
    App.prototype.synth = synth;
    Module._resolveFilename = resolve;
  }
  return { readme: path.join('examples', 'team-app', 'README.md'), key: 'team-app', objects: synthesized };
}

const pictures = [...environments(), teamApp()].map(({ readme, key, objects }) => ({ readme, key, block: pictureBlock(key, toMermaid(wiringOf(objects))) }));
const readmes = new Map([...new Set(pictures.map((p) => p.readme))].map((readme) => [readme, fs.readFileSync(path.join(root, readme), 'utf8')]));

if (options.includes('--check')) {
  const stale = stalePictures(readmes, pictures);
  if (stale.length) {
    console.error(stale.join('\n'));
    process.exit(1);
  }
  process.exit(0);
}
for (const [readme, text] of readmes) {
  const updated = pictures.filter((p) => p.readme === readme).reduce((current, p) => withReadmeBlock(current, p.key, p.block), text);
  if (updated !== text) {
    fs.writeFileSync(path.join(root, readme), updated);
    console.log(`pictures: ${readme} updated`);
  } else console.log(`pictures: ${readme} up to date`);
}
