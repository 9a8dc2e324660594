/**
 * Callbacks from native addons, made safe for promises on every Node line.
 *
 * Some addons call their JavaScript callbacks with a bare function call (NAN's Nan::Call; a
 * node-addon-api FunctionReference::Call from a libuv handle), outside node::MakeCallback. Since
 * Node 26.4 nothing drains the microtask queue after such a call (nodejs/node#66158): a promise
 * settled in the callback stays pending until some unrelated event runs. On these machines an
 * APDU's answer through pcsclite waited hundreds of milliseconds for a timer, a connect waited for
 * ever, and a PIN pad's bytes sat in serialport's poller until the next timer.
 *
 * Such callbacks therefore re-enter through setImmediate, whose callbacks Node runs inside its
 * callback scope (microtasks and ticks drained after each), in the order they were queued: answers,
 * status reports and a reader's end keep the order the addon gave them.
 */

/** `cb`, called from the immediate queue with the arguments the addon gave. */
export function reentered<A extends unknown[]>(cb: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    setImmediate(cb, ...args);
  };
}
