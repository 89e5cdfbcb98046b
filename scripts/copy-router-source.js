// The router runs from its TypeScript source (node strips the types), shipped in a ConfigMap; the
// compiled package carries that source beside the compiled construct, as .mts so that no .ts file
// (which TypeScript consumers would try to type-check) is shipped.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
fs.copyFileSync(path.join(root, 'lib', 'router', 'service', 'router.ts'), path.join(root, 'build', 'lib', 'router', 'service', 'router.mts'));
