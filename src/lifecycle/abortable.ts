/**
 * The caller's wait ends when its signal aborts (rejecting with the signal's reason, as fetch
 * does); the work itself goes on, since other callers may share it and a rotated refresh
 * token must still be stored.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {}); // Whoever else waits on it sees its outcome; this caller has left.
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
