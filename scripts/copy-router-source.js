// The router runs from its TypeScript sources (node strips the types), shipped in a ConfigMap; the
// compiled package carries those sources beside the compiled construct, as .mts so that no .ts file
// (which TypeScript consumers would resolve before the .d.ts and type-check) is shipped.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const from = path.join(root, 'lib', 'router', 'service');
const to = path.join(root, 'build', 'lib', 'router', 'service');
for (const file of fs.readdirSync(from).filter((f) => f.endsWith('.ts'))) {
  fs.copyFileSync(path.join(from, file), path.join(to, file.replace(/\.ts$/, '.mts')));
}
