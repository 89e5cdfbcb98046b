import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { parse } from 'yaml';
import { EnvironmentChart, PlatformApp } from '../lib';
import { tempDir } from './support/engines';
import { restrictPod } from '../lib';

/** Every file under `dir`: relative path -> content. */
function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[path.relative(dir, path.join(entry.parentPath, entry.name))] = fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
  }
  return files;
}

/** Two environments with a ConfigMap of values YAML parsers like to misread. */
function addCharts(app: App): void {
  for (const name of ['one', 'two']) {
    const chart = new EnvironmentChart(app, name, { environment: { name } });
    new kplus.ConfigMap(chart, 'tricky', { data: { on: 'yes', octal: '0755', big: '1_000', time: '1:30', flag: '--x', text: 'a: b\nc\n' } });
    restrictPod(new kplus.Deployment(chart, 'web', { containers: [{ image: 'nginx:1.27', args: ['--port', '8080'] }] }));
  }
}

describe('PlatformApp: the writer of dist/', () => {
  let scratch: string;
  beforeEach(() => (scratch = tempDir('manifests-test')));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test("writes the files cdk8s's FOLDER_PER_CHART_FILE_PER_RESOURCE writes, holding the same values", () => {
    // GIVEN the same charts in a PlatformApp and in a cdk8s App writing a folder per chart, a file per object
    const ours = new PlatformApp({ outdir: path.join(scratch, 'ours') });
    const theirs = new App({ outdir: path.join(scratch, 'theirs'), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    addCharts(ours);
    addCharts(theirs);

    // WHEN both synthesize
    ours.synth();
    theirs.synth();

    // THEN the file names are the same, and every file reads back to the same value, in YAML 1.1 as Kubernetes reads it
    const oursFiles = readTree(path.join(scratch, 'ours'));
    const theirsFiles = readTree(path.join(scratch, 'theirs'));
    expect(Object.keys(oursFiles).sort()).toEqual(Object.keys(theirsFiles).sort());
    expect(Object.keys(oursFiles)).toContain(path.join('one', 'ConfigMap.one-tricky.k8s.yaml'));
    for (const [file, text] of Object.entries(oursFiles)) {
      expect(parse(text, { version: '1.1' })).toEqual(parse(theirsFiles[file], { version: '1.1' }));
    }
    expect(parse(oursFiles[path.join('one', 'ConfigMap.one-tricky.k8s.yaml')], { version: '1.1' }).data).toEqual({ on: 'yes', octal: '0755', big: '1_000', time: '1:30', flag: '--x', text: 'a: b\nc\n' });
  });

  test('renders the same files in memory, writing nothing, and honours outputFileExtension', () => {
    // GIVEN an app with a chart without objects and a chart with one
    const app = new PlatformApp({ outdir: path.join(scratch, 'out'), outputFileExtension: '.yaml' });
    new Chart(app, 'empty');
    new kplus.ConfigMap(new Chart(app, 'only', { disableResourceNameHashes: true }), 'config', { data: { port: '8080' } });
    // WHEN it renders THEN every folder and file is there, and nothing is on disk
    const rendered = app.render();
    expect(rendered.folders).toEqual(['empty', 'only']);
    expect([...rendered.files.keys()]).toEqual([path.join('only', 'ConfigMap.only-config.yaml')]);
    expect(rendered.files.get(path.join('only', 'ConfigMap.only-config.yaml'))).toContain('data:\n  port: "8080"\n');
    expect(fs.existsSync(path.join(scratch, 'out'))).toBe(false);
    // AND synth writes exactly that
    app.synth();
    expect(fs.readdirSync(path.join(scratch, 'out')).sort()).toEqual(['empty', 'only']);
    expect(readTree(path.join(scratch, 'out'))).toEqual(Object.fromEntries(rendered.files));
  });

  test("fails with cdk8s's error listing every validation failure, and writes nothing", () => {
    // GIVEN two constructs whose validations fail
    const app = new PlatformApp({ outdir: path.join(scratch, 'out') });
    const chart = new Chart(app, 'chart');
    new Construct(chart, 'a').node.addValidation({ validate: () => ['first problem'] });
    new Construct(chart, 'b').node.addValidation({ validate: () => ['second problem'] });
    // WHEN it synthesizes THEN both are reported and no folder is created
    expect(() => app.synth()).toThrow('Validation failed with the following errors:\n  [chart/a] first problem\n  [chart/b] second problem');
    expect(fs.existsSync(path.join(scratch, 'out'))).toBe(false);
  });

  test('checks Pod Security on the objects it writes, rendering each object once, and lists its failures with every other', () => {
    // GIVEN an environment whose Deployment "restricted" refuses, beside one it admits
    const build = (app: App, otherProblem: boolean) => {
      const chart = new EnvironmentChart(app, 'one', { environment: { name: 'one' } });
      restrictPod(new kplus.Deployment(chart, 'fine', { containers: [{ image: 'nginx:1.27' }] }));
      new kplus.Deployment(chart, 'refused', { containers: [{ image: 'nginx:1.27' }] });
      if (otherProblem) new Construct(chart, 'a').node.addValidation({ validate: () => ['first problem'] });
    };
    const refused = "[one] Deployment 'one-refused' (one/refused/Resource) would be refused by Pod Security \"restricted\"";
    const toJson = jest.spyOn(ApiObject.prototype, 'toJson');
    try {
      // WHEN a PlatformApp renders it THEN the check fails naming the Deployment, and rendered each object once
      const app = new PlatformApp({ outdir: path.join(scratch, 'out') });
      build(app, false);
      expect(() => app.render()).toThrow(refused);
      const objects = toJson.mock.contexts;
      expect(objects.length).toBeGreaterThan(2);
      expect(new Set(objects).size).toBe(objects.length);
      // AND with another validation failing, one error lists both
      const both = new PlatformApp({ outdir: path.join(scratch, 'out') });
      build(both, true);
      expect(() => both.render()).toThrow(/\[one\/a\] first problem\n {2}\[one\] Deployment 'one-refused'/);
    } finally {
      toJson.mockRestore();
    }
    // AND a plain cdk8s App still runs the check as a validation of its own
    const plain = new App({ outdir: path.join(scratch, 'plain') });
    build(plain, false);
    expect(() => plain.synth()).toThrow(refused);
    expect(fs.existsSync(path.join(scratch, 'out'))).toBe(false);
  });

  test('fails when two objects would be written to the same file, where cdk8s silently keeps one', () => {
    // GIVEN two ConfigMaps of one chart with the same name in different namespaces
    const app = new PlatformApp({ outdir: path.join(scratch, 'out') });
    const chart = new Chart(app, 'chart');
    new kplus.ConfigMap(chart, 'a', { metadata: { name: 'settings', namespace: 'x' } });
    new kplus.ConfigMap(chart, 'b', { metadata: { name: 'settings', namespace: 'y' } });
    // WHEN it synthesizes THEN it names both, and writes nothing
    expect(() => app.synth()).toThrow(`chart/a/Resource and chart/b/Resource would both be written to ${path.join('chart', 'ConfigMap.settings.k8s.yaml')}: give them different names`);
    expect(fs.existsSync(path.join(scratch, 'out'))).toBe(false);
  });

  test('numbers the folders of charts that depend on each other, in dependency order, as cdk8s does', () => {
    // GIVEN a chart depending on another, and a chart nested in a chart
    const build = (app: App) => {
      const base = new Chart(app, 'base');
      const apps = new Chart(app, 'apps');
      apps.addDependency(base);
      new kplus.ConfigMap(base, 'config');
      new kplus.ConfigMap(new Chart(apps, 'nested'), 'config');
    };
    const ours = new PlatformApp({ outdir: path.join(scratch, 'ours') });
    const theirs = new App({ outdir: path.join(scratch, 'theirs'), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    build(ours);
    build(theirs);
    // WHEN both synthesize THEN the folders are the same
    ours.synth();
    theirs.synth();
    expect(fs.readdirSync(path.join(scratch, 'ours')).sort()).toEqual(fs.readdirSync(path.join(scratch, 'theirs')).sort());
    expect(fs.readdirSync(path.join(scratch, 'ours')).sort()).toEqual(['0000-base', expect.stringMatching(/^0001-apps-nested-[0-9a-f]{8}$/), '0002-apps']);
  });

  test('records which construct made each object when asked, as cdk8s synth does for its validation plugins', () => {
    const app = new PlatformApp({ outdir: scratch, recordConstructMetadata: true });
    const config = new kplus.ConfigMap(new Chart(app, 'chart'), 'config');
    app.synth();
    expect(JSON.parse(fs.readFileSync(path.join(scratch, 'construct-metadata.json'), 'utf8'))).toEqual({
      version: '1.0.0',
      resources: { [config.name]: { path: ApiObject.of(config).node.path } },
    });
  });
});
