import { Chart } from 'cdk8s';
import { testApp } from './support/synth';
import { PlatformChart, PropValidator, ValidationError } from '../lib';

describe('PropValidator', () => {
  const scope = new Chart(testApp(), 'test');

  test('passes when every prop is valid', () => {
    const v = new PropValidator(scope, 'Thing');
    v.port('port', 8080);
    v.nodePort('nodePort', 30030);
    v.quantity('memory', '256Mi');
    v.oneOf('mode', 'a', ['a', 'b']);
    expect(() => v.throwIfInvalid()).not.toThrow();
  });

  test('fails with the construct path, the prop, the value and what is allowed', () => {
    const v = new PropValidator(scope, 'Redis');
    v.oneOf('appendFsync', 'sometimes', ['always', 'everysec', 'no']);
    expect(() => v.throwIfInvalid()).toThrow(new ValidationError(`Redis '${scope.node.path}': appendFsync must be one of always|everysec|no, got 'sometimes'`));
  });

  test('fails once, listing every bad prop', () => {
    const v = new PropValidator(scope, 'Thing');
    v.nodePort('nodePort', 80);
    v.quantity('memory', '1 GB');
    v.unique('jobs', ['a', 'b', 'a']);
    v.dnsLabel('name', 'Bad_Name');
    expect(() => v.throwIfInvalid()).toThrow(
      [
        `Thing '${scope.node.path}' has 4 invalid props:`,
        '  - nodePort must be an integer from 30000 to 32767, got 80',
        "  - memory must be a Kubernetes quantity such as 500m, 256Mi or 10Gi, got '1 GB'",
        "  - jobs must be unique, got 'a'",
        "  - name must be a DNS label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Bad_Name'",
      ].join('\n'),
    );
  });

  test.each([
    ['a fraction', 8080.5, 'port must be an integer from 1 to 65535, got 8080.5'],
    ['0', 0, 'port must be an integer from 1 to 65535, got 0'],
    ['over 65535', 65536, 'port must be an integer from 1 to 65535, got 65536'],
  ])('port refuses %s, naming the prop and the value', (_name, value, message) => {
    const v = new PropValidator(scope, 'Thing');
    expect(v.port('port', value)).toBe(false);
    expect(() => v.throwIfInvalid()).toThrow(new ValidationError(`Thing '${scope.node.path}': ${message}`));
  });

  test.each([[1], [8080], [65535]])('port accepts %p', (value) => {
    const v = new PropValidator(scope, 'Thing');
    expect(v.port('port', value)).toBe(true);
    expect(() => v.throwIfInvalid()).not.toThrow();
  });

  test.each([['1.5'], ['0'], [' 1Gi'], ['10GB'], ['-1']])('quantity rejects %p unless Kubernetes accepts it', (value) => {
    const v = new PropValidator(scope, 'Thing');
    const ok = v.quantity('size', value);
    expect(ok).toBe(['1.5', '0'].includes(value));
  });
});

describe('PlatformChart', () => {
  test('fails when the environment name is not a DNS label', () => {
    expect(() => new PlatformChart(testApp(), 'Prod_1', { environment: { name: 'Prod_1' } })).toThrow(
      "PlatformChart 'Prod_1': environment.name must be a DNS label of at most 20 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Prod_1'",
    );
  });

  test('fails when the namespace is not a DNS label', () => {
    expect(() => new PlatformChart(testApp(), 'qa', { environment: { name: 'qa', namespace: 'team.qa' } })).toThrow("environment.namespace must be a DNS label of at most 63 characters (lower-case letters, digits and '-', starting and ending with a letter or digit), got 'team.qa'");
  });

  test('puts every namespaced object in the environment namespace, platform-<name> by default', () => {
    expect(new PlatformChart(testApp(), 'qa', { environment: { name: 'qa' } }).namespaceName).toBe('platform-qa');
    expect(new PlatformChart(testApp(), 'qa', { environment: { name: 'qa', namespace: 'team-qa' } }).namespaceName).toBe('team-qa');
  });
});
