/** What of a refusal's body Brook reads: enough for any real error, never a server's endless one. */
export const maxErrorBodyBytes = 64 * 1024;

/** The start of a refused request's body (at most `maxErrorBodyBytes`); the rest is dropped with its connection. */
export async function errorText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const pieces: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxErrorBodyBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      pieces.push(value);
      size += value.byteLength;
    }
    if (size >= maxErrorBodyBytes) await reader.cancel();
  } catch (error) {
    return String((error as Error)?.message ?? error);
  }
  return new TextDecoder().decode(Buffer.concat(pieces).subarray(0, maxErrorBodyBytes));
}
