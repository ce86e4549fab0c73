/** The writable side of a Node or streamx stream, as far as feeding it by hand needs. */
export interface FeedableStream {
  readonly destroyed: boolean;
  /** streamx's flag for a destroy in progress. */
  readonly destroying?: boolean;
  write(chunk: Buffer): boolean;
  end(chunk?: undefined): unknown;
  destroy(error?: Error): unknown;
  once(event: "drain" | "close" | "error", listener: (error?: unknown) => void): unknown;
  off(event: "drain" | "close" | "error", listener: (error?: unknown) => void): unknown;
}

/** Resolves when `stream` wants more data; rejects if it closes or fails first. */
export function drained(stream: FeedableStream): Promise<void> {
  if (stream.destroyed || stream.destroying === true) {
    return Promise.reject(new Error("stream was destroyed"));
  }
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off("drain", onDrain);
      stream.off("close", onClose);
      stream.off("error", onError);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error("stream closed before it drained"));
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    stream.once("drain", onDrain);
    stream.once("close", onClose);
    stream.once("error", onError);
  });
}

/**
 * Writes every chunk of `source` into `sink`, waiting whenever the sink asks to, then ends it.
 * tar-stream's streamx streams do not plug into node:stream's pipeline, hence this small loop.
 */
export async function feed(source: AsyncIterable<Uint8Array>, sink: FeedableStream): Promise<void> {
  try {
    for await (const chunk of source) {
      if (!sink.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) await drained(sink);
    }
    sink.end(undefined);
  } catch (error) {
    sink.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Asks `source` for up to `depth` items ahead of the consumer, so producing the next items (reading
 * files, say) overlaps consuming this one (writing it out). An async generator queues the requests
 * and runs them in order, so items arrive exactly as they would without this.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  let finished = false;
  try {
    for (;;) {
      while (queue.length < depth) {
        const next = iterator.next();
        // Awaited in order below; this only keeps a failure from counting as unhandled meanwhile.
        next.catch(() => undefined);
        queue.push(next);
      }
      const result = await queue.shift()!;
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    await Promise.allSettled(queue);
    if (!finished) await iterator.return?.(undefined);
  }
}

/** Passes chunks through, copying each into `tap` (waiting while it is full). */
export async function* teed(
  source: AsyncIterable<Buffer>,
  tap: FeedableStream | undefined,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (tap !== undefined && !tap.write(chunk)) await drained(tap);
    yield chunk;
  }
}
