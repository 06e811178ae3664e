export { loadSyntheaRecord } from '../../src/demo/synthea.js';
