// Jest runs tests in a separate global context, where Node's lazily created undici global dispatcher is missing;
// @google/genai (2.x) dispatches through it. Give the test context one of its own.
const { Agent, setGlobalDispatcher } = require('undici');
const symbol = Symbol.for('undici.globalDispatcher.1');
if (!globalThis[symbol]) setGlobalDispatcher(new Agent({ connections: 256 }));
