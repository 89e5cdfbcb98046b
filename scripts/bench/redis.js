// Benchmark: SET throughput of the durable and strict presets, each against cache, measured with
// redis-benchmark against real redis-server processes started from the synthesized redis.conf
// (with the engine tests' local overrides: port, bind, dir). Runs are interleaved round by round,
// so a noisy neighbour slows all three presets alike; each ratio is taken within one round.
// Goal (issue 6): durable >= 0.95x cache. Run: node scripts/bench/redis.js (or npm run bench).
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { setTimeout: sleep } = require('timers/promises');
require('../run-ts');
const { Chart, Testing } = require('cdk8s');
const { Redis } = require('../../lib/redis/index.ts');

const PRESETS = ['cache', 'durable', 'strict'];
const ROUNDS = 11;
const BENCHMARK_ARGS = ['-t', 'set', '-n', '25000', '-c', '50', '-P', '1', '--csv'];

function binary(name) {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  throw new Error(`${name} not found: install the Debian package redis-server (redis-tools)`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPong(port) {
  for (let i = 0; i < 200; i++) {
    try {
      if (execFileSync(binary('redis-cli'), ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG') return;
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  throw new Error(`redis-server on ${port} did not start`);
}

/** A redis-server with the preset's synthesized redis.conf. */
async function startServer(preset, work) {
  const chart = new Chart(Testing.app(), 'bench', { namespace: 'bench', disableResourceNameHashes: true });
  const { redisConf } = new Redis(chart, 'redis', { preset });
  const dir = path.join(work, preset);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'redis.conf'), redisConf);
  const port = await freePort();
  const child = spawn(binary('redis-server'), [path.join(dir, 'redis.conf'), '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], { stdio: 'ignore' });
  await waitForPong(port);
  return { preset, port, child };
}

function setsPerSecond(port) {
  const csv = execFileSync(binary('redis-benchmark'), ['-h', '127.0.0.1', '-p', String(port), ...BENCHMARK_ARGS], { encoding: 'utf8' });
  // "test","rps",... then "SET","81234.56",...
  const row = csv.trim().split('\n').find((line) => line.startsWith('"SET"'));
  return Number(JSON.parse(`[${row}]`)[1]);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function run() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-bench-'));
  const servers = [];
  try {
    for (const preset of PRESETS) servers.push(await startServer(preset, work));
    const rps = Object.fromEntries(PRESETS.map((p) => [p, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round: no preset always runs first or last.
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(round + i) % servers.length];
        rps[server.preset].push(setsPerSecond(server.port));
      }
    }
    const ratio = (preset) => median(rps[preset].map((value, round) => value / rps.cache[round]));
    const durable = ratio('durable');
    return [
      `redis-benchmark ${BENCHMARK_ARGS.join(' ')}, ${ROUNDS} interleaved rounds, redis-server ${execFileSync(binary('redis-server'), ['--version'], { encoding: 'utf8' }).split(' ')[2].slice(2)}`,
      ...PRESETS.map((p) => `  ${p.padEnd(8)} SET/s ${rps[p].map((v) => v.toFixed(0)).join(', ')} (median ${median(rps[p]).toFixed(0)})`),
      `  durable / cache: ${durable.toFixed(2)}x (goal >= 0.95x: ${durable >= 0.95 ? 'met' : 'NOT met'})`,
      `  strict  / cache: ${ratio('strict').toFixed(2)}x (appendfsync always)`,
    ];
  } finally {
    for (const server of servers) server.child.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { title: 'Redis: SET throughput of durable and strict vs cache', run };

if (require.main === module) {
  run().then((lines) => console.log(lines.join('\n')), (error) => {
    console.error(error);
    process.exit(1);
  });
}
