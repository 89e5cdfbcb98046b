// What GET /route answers for path rules, through the router's external interface only (the
// process `startRouter` runs, rules.json, the X-Original-URI request header and the X-Route-Target
// answer), so it holds whatever the server is built on.
import * as fs from 'fs';
import { get, sharedTempDir, startRouter } from './nginx/stack';

jest.setTimeout(20_000);

describe('router /route: a pathPrefix rule', () => {
  test('matches only paths that start with the prefix', async () => {
    // GIVEN /b/ -> app-b, everything else to the default app-a
    const dir = sharedTempDir('router-route-contract');
    const rules = { targets: ['app-a', 'app-b'], rules: [{ strategy: 'pathPrefix', params: { prefix: '/b/', target: 'app-b' } }], defaultTarget: 'app-a' };
    const router = await startRouter(JSON.stringify(rules), dir);
    try {
      // WHEN paths with the prefix at the start, inside, or almost, are routed
      const routed: Record<string, unknown> = {};
      for (const uri of ['/b/', '/b/cart?x=1', '/a/b/cart', '/shop/b/', '/b', '/bb/cart']) {
        const answer = await get(router.port, '/route', { 'X-Original-URI': uri });
        routed[uri] = [answer.status, answer.headers['x-route-target']];
      }
      // THEN only the first two go to app-b
      expect(routed).toEqual({
        '/b/': [204, 'app-b'],
        '/b/cart?x=1': [204, 'app-b'],
        '/a/b/cart': [204, 'app-a'],
        '/shop/b/': [204, 'app-a'],
        '/b': [204, 'app-a'],
        '/bb/cart': [204, 'app-a'],
      });
    } finally {
      await router.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
