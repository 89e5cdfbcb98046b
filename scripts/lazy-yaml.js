// cdk8s requires the `yaml` library when it loads (lib/yaml.js), for `Yaml.load`, `Yaml.stringify`
// and `App.synth()`. The platform's synth uses none of them (it writes with js-yaml, see
// lib/core/yaml.ts), and loading `yaml` took a sixth of a synth. So the synth hands cdk8s a
// stand-in that loads the real library on first use: any property read loads it and answers from it.
const Module = require('module');
const path = require('path');

const REQUIRER = `${path.sep}cdk8s${path.sep}lib${path.sep}yaml.js`;
const load = Module._load;

Module._load = function loadYamlLazily(request, parent, isMain) {
  if (request !== 'yaml' || !parent?.filename?.endsWith(REQUIRER)) return load.apply(this, arguments);
  Module._load = load;
  let real;
  const library = () => (real ??= load.call(this, request, parent, isMain));
  // `__esModule` makes TypeScript's __importStar (how cdk8s imports it) hand the object back as is.
  return new Proxy({}, {
    get: (_, key) => (key === '__esModule' ? true : library()[key]),
    has: (_, key) => key in library(),
    ownKeys: () => Reflect.ownKeys(library()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(library(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
};
