/* global fetch, TextDecoderStream -- runs in the browser */
import { ApiError } from './api.js';

/**
 * Reads a Server-Sent Events response with fetch(), because EventSource cannot send an
 * Authorization header. Resolves when the stream ends (whoever ends it); rejects with an
 * ApiError when the server refuses it, or when `signal` aborts.
 */
export async function readEventStream(api, path, { signal, onOpen, onEvent }) {
  const response = await fetch(path, { headers: { ...api.headers(), accept: 'text/event-stream' }, signal, cache: 'no-store' });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.error?.code ?? 'HTTP_ERROR', body.error?.message ?? response.statusText);
  }
  await onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const message = parse(block);
      if (message) onEvent(message);
      boundary = buffer.indexOf('\n\n');
    }
  }
}

function parse(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return data.length > 0 ? { event, data: JSON.parse(data.join('\n')) } : undefined;
}
