import * as net from 'net';
import { encodeCommand, parseResp } from '../../lib/router/service/redis';

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
        // The router's RESP parser: one piece of code reads Redis replies, in the product and here.
        const parsed = parseResp(this.buffer, 0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.next);
        this.pending.shift()?.resolve(parsed.value instanceof Error ? new RedisError(parsed.value.message) : parsed.value);
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
    this.socket.write(encodeCommand(args.map(String)));
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  close(): void {
    this.socket.destroy();
  }
}
