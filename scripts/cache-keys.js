// What each of the synth's caches is keyed by: every input its output depends on, so a changed
// input can only miss, never serve old output. Pure functions (test/synth-caches.test.ts changes
// each input in turn and sees the key change); the caches read the inputs and call these.
const { Buffer } = require('buffer');
const crypto = require('crypto');

const sha1 = (...parts) => {
  const hash = crypto.createHash('sha1');
  // Each part with its length, so that ('ab', 'c') and ('a', 'bc') differ.
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return hash.digest('hex');
};

// Arguments of node that give it code to run: such a process runs no program file.
const EVAL_FLAGS = ['-e', '--eval', '-p', '--print'];
// Arguments of node that are code or preloads, not V8 flags: `node -e <code>` must not make a pack per piece of code.
const NOT_FLAGS = new Set([...EVAL_FLAGS, '-r', '--require', '--import']);

/**
 * The compile cache's flags: V8 rejects code compiled by another V8 or under other flags
 * (--cpu-prof, heap sizes), so each V8 version and set of flags has a pack of its own.
 */
function compileFlags(v8Version, execArgv) {
  const flags = execArgv.filter((arg, i, all) => !NOT_FLAGS.has(arg) && !NOT_FLAGS.has(all[i - 1]) && !NOT_FLAGS.has(arg.split('=')[0]));
  return [v8Version, ...flags].join(' ');
}

/** A compile-cache pack: the flags and the program (`scripts/synth.js`, or `-e`), so a program that runs part of the synth's code has a pack of its own. */
function compilePackKey(flags, program) {
  return sha1(flags, program).slice(0, 12);
}

/** A compile-cache entry: the flags, the file, and what identifies its source (content, or an installed file's status). */
function compileEntryKey(flags, filename, sourceIdentity) {
  return sha1(flags, filename, sourceIdentity);
}

/** run-ts's transpiler: the @swc/core version and the swc options (.swcrc, source maps or not). */
function transpilerKey(swcVersion, swcOptions) {
  return sha1(swcVersion, JSON.stringify(swcOptions)).slice(0, 16);
}

/** What a TypeScript source is known by in run-ts's cache (hashes-by-status.js records it by the file's status). */
function sourceHash(source) {
  return sha1(source);
}

/** One transpiled file: the transpiler, the file name (swc writes it into maps) and its source's hash. */
function transpileEntryKey(transpiler, filename, sourceHash) {
  return sha1(transpiler, filename, sourceHash);
}

/**
 * The YAML serializer, which dist/'s index and its kept copy (synth-index.js) key their texts by:
 * lib/core/yaml.ts's source and js-yaml's package.json. Not V8's version: values are keyed by their
 * JSON form, or by a V8 serialization whose bytes start with its format's version (lib/core/yaml.ts,
 * `yamlKey`).
 */
function yamlSerializerKey(serializerSource, jsYamlPackageJson) {
  return sha1(serializerSource, jsYamlPackageJson);
}

/** The hash of a text in dist/'s index: the serializer that wrote it and the text (or a file's bytes), so an edited text, or another serializer's, does not match. */
function indexTextHash(serializer, text) {
  return sha1(serializer, text);
}

/** The file of an output folder's hashes by status (hashes-by-status.js): its absolute path. */
function fileHashesName(outdir) {
  return sha1(outdir).slice(0, 16);
}

/** An expression's entry in dist/'s index: its parse key (lib/grafana/promql.ts) for one parser version. */
function indexParsedEntry(promqlParser, parseKey) {
  return sha1(promqlParser, parseKey);
}

module.exports = { EVAL_FLAGS, compileFlags, compilePackKey, compileEntryKey, transpilerKey, sourceHash, transpileEntryKey, yamlSerializerKey, indexTextHash, fileHashesName, indexParsedEntry };
