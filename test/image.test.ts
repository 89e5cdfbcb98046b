// The one image-reference helper: what every construct's `image` prop and version label go through.
import { imageVersion, isPinnedImage, parseImage } from '../lib';
import { Memo } from '../lib/core/memo';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  test.each([
    ['redis:7.2.5-bookworm', { repository: 'redis', tag: '7.2.5-bookworm', digest: undefined }],
    ['quay.io/prometheus/prometheus:v2.55.1', { repository: 'quay.io/prometheus/prometheus', tag: 'v2.55.1', digest: undefined }],
    [`redis@${DIGEST}`, { repository: 'redis', tag: undefined, digest: DIGEST }],
    [`registry.local:5000/team/api:1.4@${DIGEST}`, { repository: 'registry.local:5000/team/api', tag: '1.4', digest: DIGEST }],
    ['registry.local:5000/team/api', { repository: 'registry.local:5000/team/api', tag: undefined, digest: undefined }],
  ])('%s splits into repository, tag and digest', (image, parts) => expect(parseImage(image)).toEqual(parts));

  test.each([
    ['redis:7.2.5', true], [`redis@${DIGEST}`, true], [`redis:7.2@${DIGEST}`, true],
    ['redis', false], ['redis:latest', false], ['registry.local:5000/api', false], ['redis@sha256:short', false], ['', false],
  ])('%s pinned: %s', (image, pinned) => expect(isPinnedImage(image)).toBe(pinned));

  test('the version label is the tag when it is a valid label value, else none', () => {
    expect(imageVersion('grafana/grafana:11.6.5')).toBe('11.6.5');
    expect(imageVersion(`redis:7.2@${DIGEST}`)).toBe('7.2');
    expect(imageVersion(`redis@${DIGEST}`)).toBeUndefined();
    expect(imageVersion(`api:${'v'.repeat(64)}`)).toBeUndefined(); // over 63 characters
    expect(imageVersion('api:1.0-')).toBeUndefined(); // a label value ends with a letter or digit
  });
});

describe('the in-process memo', () => {
  test('computes once per key and keeps at most its limit, dropping the oldest half', () => {
    const memo = new Memo<number, number>(4);
    let computed = 0;
    const square = (n: number) => memo.get(n, () => (computed++, n * n));
    [1, 2, 3, 4, 1].forEach(square);
    expect(computed).toBe(4);
    square(5); // full: 1 and 2 go
    expect([1, 2, 3, 4, 5].map((n) => memo.peek(n))).toEqual([undefined, undefined, 9, 16, 25]);
  });
});
