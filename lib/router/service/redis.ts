/**
 * A minimal RESP2 client for the `redisLookup` strategy: GET and AUTH (user and password) are all the router needs.
 * A command that gets no answer within `timeoutMs` fails (redis_unavailable) and drops the
 * connection, so a Redis that accepts and never answers costs a decision at most that long.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

/** Where the router finds Redis, for the `redisLookup` strategy. */
export interface RedisConfig {
  readonly host: string;
  readonly port: number;
  /** The Redis user the router logs in as (`AUTH <username> <password>`); without it, `AUTH <password>` (the default user). */
  readonly username?: string;
  /** File holding the password (a mounted Secret key); read at every (re)connect. */
  readonly passwordFile?: string;
  /** Per-command timeout: a decision fails with redis_unavailable after it. */
  readonly timeoutMs: number;
}


export type RespValue = string | number | null | RespValue[];

interface PendingReply {
  readonly resolve: (value: RespValue) => void;
  readonly reject: (error: Error) => void;
}

/** Parses one RESP2 reply from `buffer` at `offset`; undefined when it is not complete yet. */
export function parseResp(buffer: Buffer, offset: number): { value: RespValue | Error; next: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  if (type === '+') return { value: line, next: afterLine };
  if (type === '-') return { value: new Error(line), next: afterLine };
  if (type === ':') return { value: Number(line), next: afterLine };
  if (type === '$') {
    const length = Number(line);
    if (length < 0) return { value: null, next: afterLine };
    if (buffer.length < afterLine + length + 2) return undefined;
    return { value: buffer.toString('utf8', afterLine, afterLine + length), next: afterLine + length + 2 };
  }
  if (type === '*') {
    const count = Number(line);
    if (count < 0) return { value: null, next: afterLine };
    const items: RespValue[] = [];
    let next = afterLine;
    for (let i = 0; i < count; i++) {
      const item = parseResp(buffer, next);
      if (!item) return undefined;
      if (item.value instanceof Error) return { value: item.value, next: item.next };
      items.push(item.value);
      next = item.next;
    }
    return { value: items, next };
  }
  throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
}

export function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * One pipelined connection; replies come back in command order. A timeout or a protocol error
 * drops the connection (its reply order is lost) and fails what was pending; the next command
 * reconnects, at most once per `retryDelayMs` while Redis is down, so an outage fails fast.
 */
export class RedisClient {
  private readonly config: RedisConfig;
  private socket: net.Socket | undefined;
  private pending: PendingReply[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private downUntil = 0;
  private readonly retryDelayMs = 200;

  constructor(config: RedisConfig) {
    this.config = config;
  }

  command(args: readonly string[]): Promise<RespValue> {
    if (Date.now() < this.downUntil) return Promise.reject(new Error(`redis ${this.config.host}:${this.config.port}: unavailable (recent connection failure)`));
    const socket = this.socket ?? this.connect();
    return new Promise<RespValue>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(socket, new Error(`no answer within ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
      this.pending.push({
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      socket.write(encodeCommand(args));
    });
  }

  close(): void {
    if (this.socket) this.fail(this.socket, new Error('client closed'));
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.config.host, port: this.config.port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (error) => this.fail(socket, error));
    socket.on('end', () => this.fail(socket, new Error('connection ended by redis')));
    socket.on('close', () => this.fail(socket, new Error('connection closed')));
    if (this.config.passwordFile) {
      // As the Redis construct reads the Secret: trailing newlines are not part of the password.
      const password = fs.readFileSync(this.config.passwordFile, 'utf8').replace(/[\r\n]+$/, '');
      // AUTH goes first on the wire; a refusal fails the connection and everything behind it.
      this.pending.push({ resolve: () => undefined, reject: () => undefined });
      socket.write(encodeCommand(this.config.username ? ['AUTH', this.config.username, password] : ['AUTH', password]));
    }
    return socket;
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    try {
      for (;;) {
        const reply = parseResp(this.buffer, offset);
        if (!reply) break;
        offset = reply.next;
        const waiter = this.pending.shift();
        if (reply.value instanceof Error) {
          if (/^(NOAUTH|WRONGPASS|ERR AUTH|ERR invalid password)/.test(reply.value.message)) return this.fail(socket, reply.value);
          waiter?.reject(reply.value);
        } else waiter?.resolve(reply.value);
      }
    } catch (error) {
      return this.fail(socket, error as Error);
    }
    this.buffer = this.buffer.subarray(offset);
  }

  private fail(socket: net.Socket, error: Error): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.downUntil = Date.now() + this.retryDelayMs;
    socket.destroy();
    const pending = this.pending;
    this.pending = [];
    const reason = new Error(`redis ${this.config.host}:${this.config.port}: ${error.message}`);
    for (const waiter of pending) waiter.reject(reason);
  }
}

