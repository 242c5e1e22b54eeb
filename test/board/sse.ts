/** Server-Sent Events read from a fetch() response, for the live feed tests. */
export interface SseMessage {
  event: string;
  id?: string;
  data: any;
}

export class SseReader {
  readonly messages: SseMessage[] = [];
  ended = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | undefined;

  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }

  /** Reads until `done` holds for what has arrived, the stream ends, or `timeoutMs` passes. */
  async until(done: (messages: SseMessage[]) => boolean, timeoutMs = 20_000): Promise<SseMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.messages) && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream incomplete after ${timeoutMs} ms: ${JSON.stringify(this.messages)}`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left)));
      // A read left waiting by a timeout is kept for the next call, so no chunk is lost.
      this.pending ??= this.reader.read();
      const next = await Promise.race([this.pending, timeout]);
      clearTimeout(timer);
      if (next === 'timeout') continue;
      this.pending = undefined;
      if (next.done) {
        this.ended = true;
        break;
      }
      this.push(this.decoder.decode(next.value, { stream: true }));
    }
    return this.messages;
  }

  /** Reads to the end of the stream. */
  async toEnd(timeoutMs = 20_000): Promise<SseMessage[]> {
    await this.until(() => false, timeoutMs);
    return this.messages;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }

  private push(text: string): void {
    this.buffer += text;
    let boundary = this.buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const block = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const colon = line.indexOf(': ');
        if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
      }
      const data = fields.get('data');
      if (data !== undefined) {
        this.messages.push({ event: fields.get('event') ?? 'message', id: fields.get('id'), data: JSON.parse(data) });
      }
      boundary = this.buffer.indexOf('\n\n');
    }
  }
}

export async function openStream(baseUrl: string, path: string, token: string): Promise<{ response: Response; sse: SseReader }> {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
  return { response, sse: new SseReader(response) };
}
