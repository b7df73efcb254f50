/** Resolves once `predicate` holds (polled every 5 ms); rejects after `timeoutMs`, naming `what`. */
export function until(predicate: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error(`${what} not met within ${timeoutMs} ms`));
      setTimeout(check, 5);
    };
    check();
  });
}
