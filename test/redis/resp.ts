import * as net from 'net';

/** A reply of Redis: a simple string, an integer, a bulk string (null when absent), an array, or an error. */
export type Reply = string | number | null | Reply[] | RedisError;

/** An error reply (`-ERR ...`), returned rather than thrown so tests can assert on it. */
export class RedisError {
  constructor(readonly message: string) {}
}

/**
 * A minimal RESP2 client for engine tests: one connection, commands answered in order. Enough to
 * count acknowledgements precisely, which redis-cli in a loop cannot do.
 */
export class RespClient {
  private buffer = Buffer.alloc(0);
  private readonly pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      for (;;) {
        const parsed = parse(this.buffer, 0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this.pending.shift()?.resolve(parsed.reply);
      }
    });
    const failAll = (error: Error) => this.pending.splice(0).forEach((p) => p.reject(error));
    socket.on('error', failAll);
    socket.on('close', () => failAll(new Error('connection closed')));
  }

  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one command; resolves with its reply. */
  call(...args: (string | number)[]): Promise<Reply> {
    const parts = args.map(String);
    this.socket.write(`*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Parses one reply at `start`; undefined until it has fully arrived. */
function parse(buffer: Buffer, start: number): { reply: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[start]);
  const line = buffer.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+': return { reply: line, end: next };
    case '-': return { reply: new RedisError(line), end: next };
    case ':': return { reply: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { reply: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { reply: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { reply: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item.reply);
        at = item.end;
      }
      return { reply: items, end: at };
    }
    default: throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}
