import { Ajv } from 'ajv';
import { compileLexicon, LexiconError, type Lexicon } from '../notes/index.js';
import { readProjectJson } from '../project-root.js';

/**
 * Reads policy/notes-lexicon.json, validates it against policy/notes-lexicon.schema.json (the published shape of
 * the file, for policy authors and their editors) and compiles it. Both the schema and the compiler name the entry
 * at fault.
 *
 * @returns the compiled lexicon
 * @throws LexiconError when the file does not match the schema or does not compile
 */
export function loadLexicon(): Lexicon {
  const data = readProjectJson('policy', 'notes-lexicon.json');
  const schema = readProjectJson('policy', 'notes-lexicon.schema.json');
  const ajv = new Ajv({ allErrors: false, strict: false });
  const validate = ajv.compile(schema as object);
  if (!validate(data)) {
    const e = validate.errors?.[0];
    throw new LexiconError(e?.instancePath === '' || e === undefined ? 'lexicon' : (e.instancePath ?? 'lexicon'), e?.message ?? 'does not match the schema');
  }
  return compileLexicon(data);
}
