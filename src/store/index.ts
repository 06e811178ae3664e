/** The record store's public face: the port, its record types, and the factory that picks the engine. */
export * from './record-store.js';
export { createStore, type StoreOverrides } from './create-store.js';
