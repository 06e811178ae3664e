import { randomUUID } from 'node:crypto';
import type { CriterionTrace } from '../engine/evaluate.js';
import type { Evidence } from '../facts/evidence-rules.js';
import type { FactResult } from '../facts/extract-facts.js';
import { NOTE_LIMITS, type NoteLimits } from '../facts/note-plan.js';
import { NOTE_UNREAD_REASONS, type NoteTexts } from '../facts/note-texts.js';
import { FAILURE_LABEL, SOURCE_LABEL } from '../fhir/patient-record.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import { policyLookup } from '../policy/policy-lookup.js';
import type { FactDefinition } from '../policy/policy-types.js';
import { clauseAnchor, clauseName } from '../policy/policy-text.js';
import { fill, type CardTemplates, type UnreadNotesWording } from './card-templates.js';
import type { Questionnaire } from 'fhir/r4.js';
import type { Card, DeterminationExtension, Suggestion } from './cds-types.js';
import type { Determination } from './determine.js';

/** CDS Hooks requires a summary under 140 characters. */
const SUMMARY_MAX = 139;

/** What the card needs to know about the patient's coverage, decided by the hook use case. */
export type CoverageState = 'active' | 'none' | 'unreadable';

/** Escapes text taken from the record so it cannot break or inject markdown in the card. */
export function md(text: string): string {
  // Most text needs nothing done: test once before rewriting twice.
  if (!NEEDS_ESCAPE.test(text)) {
    return text;
  }
  return text.replace(/[\\`*_[\]<>|~]/g, '\\$&').replace(/\s+/g, ' ').trim();
}

/** A markdown character, or whitespace other than single inner spaces. */
const NEEDS_ESCAPE = /[\\`*_[\]<>|~]|[^\S ]|\s\s|^\s|\s$/;

function shorten(text: string, max = SUMMARY_MAX): string {
  if (text.length <= max) {
    return text;
  }
  const cut = text.slice(0, max - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max - 20))}…`;
}

/** Joins phrases as "a, b or c". */
function orList(phrases: readonly string[], or: string): string {
  if (phrases.length <= 1) {
    return phrases[0] ?? '';
  }
  return `${phrases.slice(0, -1).join(', ')}${or}${phrases.at(-1) ?? ''}`;
}

/** How many note quotes a card shows per fact: the sentences behind a fact, not a transcript. */
const QUOTES_PER_FACT = 3;

/**
 * The note mentions a card quotes for one fact's evidence (or denials): the first few, in the fact's order.
 * The record keeps exactly these quotes and no other note text (issue #13 §2).
 */
export function quotedNotes(list: readonly Evidence[]): Evidence[] {
  // Stops at the last one quoted: a fact with notes behind it can hold hundreds of mentions.
  const quoted: Evidence[] = [];
  for (const e of list) {
    if (quoted.length >= QUOTES_PER_FACT) {
      break;
    }
    // Two mentions in one sentence ("denies night pain or pain worse lying flat") are one quote.
    if (e.note !== undefined && !quoted.some((q) => sameQuote(q, e))) {
      quoted.push(e);
    }
  }
  return quoted;
}

/** Whether two pieces of note evidence quote the same sentence of the same note. */
export function sameQuote(a: Evidence, b: Evidence): boolean {
  return a.reference === b.reference && a.note !== undefined && b.note !== undefined && a.note.span.in === b.note.span.in && a.note.quote === b.note.quote;
}

/**
 * A sentence quoted from a note (SPEC §8.4): the quote, the note's type or title and date, whether the note documents
 * the finding or its absence, and the reference.
 */
function noteLine(e: Evidence, t: CardTemplates['detail']): string {
  const note = e.note;
  return fill(note?.assertion === 'negated' ? t.noteAbsentLine : t.noteLine, {
    quote: md(note?.quote ?? e.what),
    label: md(note?.label ?? ''),
    date: note?.date !== undefined ? fill(t.noteDate, { date: note.date }) : '',
    reference: `\`${e.reference}\``,
  });
}

/** Evidence lines of a fact: every coded record, and at most a few note quotes. */
function evidenceLines(list: readonly Evidence[], t: CardTemplates['detail']): string[] {
  const lines: string[] = [];
  const quoted = quotedNotes(list);
  let more = 0;
  for (const e of list) {
    if (e.note === undefined) {
      lines.push(`  - ${evidenceLine(e)}`);
    } else if (quoted.includes(e)) {
      lines.push(`  - ${noteLine(e, t)}`);
    } else if (!quoted.some((q) => sameQuote(q, e))) {
      more++;
    }
  }
  if (more > 0) {
    lines.push(`  - ${fill(t.moreNotes, { count: String(more) })}`);
  }
  return lines;
}

function evidenceLine(e: Evidence): string {
  const parts = [md(e.what)];
  if (e.value !== undefined) {
    parts.push(md(e.value));
  }
  if (e.code !== undefined) {
    parts.push(md(e.code));
  }
  if (e.date !== undefined) {
    parts.push(e.date);
  }
  return `${parts.join(', ')} (\`${e.reference}\`)`;
}

/** Facts of a traced subtree, in tree order. */
function factsIn(node: CriterionTrace, into: string[] = []): string[] {
  if (node.fact !== undefined && !into.includes(node.fact)) {
    into.push(node.fact);
  }
  if (node.children) {
    for (const child of node.children) {
      factsIn(child, into);
    }
  }
  return into;
}

/**
 * Named criteria of a tree ("ind." or "non." below the root) that evaluated to `value`. The prefix keeps
 * a criterion the other tree merely reads (ind.red-flag inside "no red flag documented") out of it.
 */
function criteriaWith(node: CriterionTrace, value: CriterionTrace['value'], prefix: 'ind.' | 'non.', into: CriterionTrace[] = []): CriterionTrace[] {
  if (node.value === value && node.id?.startsWith(prefix) && !into.some((c) => c.id === node.id)) {
    into.push(node);
  }
  if (node.children) {
    for (const child of node.children) {
      criteriaWith(child, value, prefix, into);
    }
  }
  return into;
}

function formatName(media: string, names: Readonly<Record<string, string>>): string {
  return names[media] ?? names[`${media.slice(0, media.indexOf('/') + 1)}*`] ?? md(media);
}

/**
 * SPEC §8.1: the card says how many notes could not be read and why, e.g. "2 notes could not be read: 1 in
 * an unsupported format (PDF), 1 held on another server." Nothing when every note was read. A failed notes
 * search is not counted here: the card names it among the sources that could not be checked.
 * @param notes - what the selection of note texts left unread
 * @param wording - the card's words (cards/determination.json `detail.notesUnread`)
 * @param limits - the limits the over-limit phrase names
 */
export function unreadNotesSentence(notes: Pick<NoteTexts, 'unread' | 'unsupportedFormats'>, wording: UnreadNotesWording, limits: NoteLimits = NOTE_LIMITS): string | undefined {
  let total = 0;
  const parts: string[] = [];
  for (const reason of NOTE_UNREAD_REASONS) {
    const count = notes.unread[reason] ?? 0;
    if (count === 0) {
      continue;
    }
    total += count;
    const names = reason === 'unsupported-format' ? [...new Set(notes.unsupportedFormats.map((f) => formatName(f, wording.formats)))] : [];
    const phrase = fill(wording.reasons[reason], {
      formats: names.length > 0 ? ` (${names.join(', ')})` : '',
      texts: limits.texts.toLocaleString('en-US'),
      characters: limits.characters.toLocaleString('en-US'),
    });
    parts.push(`${count} ${phrase}`);
  }
  if (total === 0) {
    return undefined;
  }
  return `${fill(total === 1 ? wording.one : wording.many, { count: String(total) })}: ${parts.join(', ')}.`;
}

interface FixedParts {
  readonly vars: Readonly<Record<string, string>>;
  readonly links: readonly { readonly label: string; readonly url: string; readonly type: 'absolute' | 'smart' }[];
  readonly source: Card['source'];
  readonly questionnaireLabels: { readonly missing: string; readonly full: string };
  readonly policyLine: string;
}

/**
 * Renders determinations as cards for the ordering clinician, from the templates in cards/.
 */
export class CardRenderer {
  private readonly definitions: ReadonlyMap<string, FactDefinition>;
  private readonly fixedByUrl = new Map<string, FixedParts>();

  /**
   * @param loaded - the policy
   * @param templates - the card templates
   */
  constructor(
    private readonly loaded: LoadedPolicy,
    private readonly templates: CardTemplates,
  ) {
    this.definitions = policyLookup(loaded.policy).facts;
  }

  private vars(policyUrl: string): Record<string, string> {
    return this.fixed(policyUrl).vars;
  }

  /**
   * What a card says that depends only on the policy and the service's URL: filled once per URL rather
   * than per card. The URL comes from configuration or the Host header, so only a few are kept.
   */
  private fixed(policyUrl: string): FixedParts {
    let parts = this.fixedByUrl.get(policyUrl);
    if (!parts) {
      const p = this.loaded.policy;
      const t = this.templates;
      const vars = { publisher: p.publisher, program: p.program, service: p.service, version: p.version, policyName: p.name, policyUrl };
      parts = {
        vars,
        links: t.links.map((l) => ({ label: fill(l.label, vars), url: fill(l.url, vars), type: l.type })),
        source: { label: fill(t.source.label, vars), url: policyUrl, topic: t.source.topic },
        questionnaireLabels: { missing: fill(t.questionnaireLinks.missing, vars), full: fill(t.questionnaireLinks.full, vars) },
        policyLine: fill(t.detail.policy, vars),
      };
      if (this.fixedByUrl.size >= 16) {
        this.fixedByUrl.clear();
      }
      this.fixedByUrl.set(policyUrl, parts);
    }
    return parts;
  }

  /** The summary: the decision and its main reason in plain words (issue #2, cards). */
  summary(det: Determination): string {
    const t = this.templates.summary;
    const vars = this.vars('');
    const { decision } = det.outcome;
    switch (decision) {
      case 'meets-criteria':
        return shorten(fill(t[decision], { ...vars, reason: this.mainIndication(det) }));
      case 'does-not-meet-criteria': {
        const non = criteriaWith(det.outcome.trace.nonIndications, 'true', 'non.')[0];
        return shorten(fill(t[decision], { ...vars, reason: non?.label ?? t['no-indication'] }));
      }
      case 'documentation-needed': {
        const needs = this.needs(det.outcome.missing);
        return shorten(fill(det.noSourceReadable ? t.unchecked : t[decision], { ...vars, needs }));
      }
    }
  }

  private mainIndication(det: Determination): string {
    const met = criteriaWith(det.outcome.trace.indications, 'true', 'ind.')[0];
    if (!met) {
      return '';
    }
    // For a red flag, the flag itself is the reason a clinician recognises ("history of cancer").
    const fact = factsIn(met).find((id) => det.facts.get(id)?.value === 'true' && this.definitions.get(id)?.group === 'red-flag');
    return (fact && this.definitions.get(fact)?.label) ?? met.label ?? met.id ?? '';
  }

  /**
   * The open questions grouped as a clinician reads them, the smallest group first: one question that
   * settles the decision (4 weeks of conservative care) before one of five red flags.
   */
  private groupedMissing(missing: readonly string[]): [string, FactDefinition[]][] {
    const byGroup = new Map<string, FactDefinition[]>();
    for (const id of missing) {
      const def = this.definitions.get(id);
      if (def) {
        byGroup.set(def.group, [...(byGroup.get(def.group) ?? []), def]);
      }
    }
    return [...byGroup].sort((a, b) => a[1].length - b[1].length);
  }

  /** "4 weeks of conservative care or a red flag". */
  private needs(missing: readonly string[]): string {
    const t = this.templates.summary;
    const phrases = this.groupedMissing(missing).map(([group, defs]) =>
      defs.length > 1 ? (this.loaded.policy.groups[group]?.phrase ?? group) : (defs[0]?.label ?? group),
    );
    if (phrases.length === 0) {
      return orList(['the open criteria'], t.or);
    }
    return phrases.length > 3 ? `${phrases.slice(0, 2).join(', ')}${t.more}` : orList(phrases, t.or);
  }

  private factLine(f: FactResult): string {
    const def = this.definitions.get(f.id);
    const words = md(def?.words ?? f.id);
    if (f.answer) {
      // Attested, not coded: the card says which facts rest on the clinician's word (issue #5).
      return `- **${words}**: attested by the clinician, answered ${f.answer.value ? 'yes' : 'no'} on ${f.answer.authored} (\`${f.answer.reference}\`)`;
    }
    if (f.value === 'false' && f.negating.length > 0) {
      // Denied in a note read whole (SPEC §8.4): the card says where.
      return [`- **${words}**`, ...evidenceLines(f.negating, this.templates.detail)].join('\n');
    }
    // The span is what was documented: "so far" belongs only to what is still needed (issue #12).
    const lines = [`- **${words}**${f.detail !== undefined ? `: ${fill(this.templates.detail.span, { detail: md(f.detail) })}` : ''}`];
    lines.push(...evidenceLines(f.evidence, this.templates.detail));
    return lines.join('\n');
  }

  /** The markdown detail: criteria met with evidence, the checklist, the non-indication, the policy. */
  detail(det: Determination, coverage: CoverageState, policyUrl: string): string {
    const t = this.templates.detail;
    const vars = this.vars(policyUrl);
    const { decision, trace } = det.outcome;
    const sections: string[] = [fill(t.decision[decision], vars)];
    const shown = new Set<string>();
    const show = (ids: readonly string[]): string[] =>
      ids.flatMap((id) => {
        const f = det.facts.get(id);
        if (!f || shown.has(id) || (f.value !== 'true' && !f.answer && f.negating.length === 0)) {
          return [];
        }
        shown.add(id);
        return [this.factLine(f)];
      });

    const met = criteriaWith(trace.indications, 'true', 'ind.');
    if (met.length > 0) {
      const lines = met.flatMap((c) => show(factsIn(c).filter((id) => det.facts.get(id)?.value === 'true')));
      sections.push(`**${t.met}**: ${met.map((c) => md(c.label ?? c.id ?? '')).join('; ')}\n\n${lines.join('\n')}`);
    }

    if (decision === 'does-not-meet-criteria') {
      const non = criteriaWith(trace.nonIndications, 'true', 'non.');
      if (non.length > 0) {
        for (const c of non) {
          const lines = show(factsIn(c));
          sections.push(`**${t.nonIndication}**: ${md(c.clause ?? c.label ?? '')}\n\n${lines.join('\n')}`);
        }
      } else {
        sections.push(t.noIndication);
      }
    }

    // Only a decision still open lists what is needed: after "meets" or "does not meet" nothing is.
    if (decision === 'documentation-needed') {
      const checklist = this.groupedMissing(det.outcome.missing).flatMap(([, defs]) =>
        defs.map((def) => {
          const f = det.facts.get(def.id);
          const span = f?.detail !== undefined ? ` (${fill(t.missingSpan, { detail: md(f.detail) })})` : '';
          const hint = def.hint !== undefined ? `: ${md(def.hint)}` : '';
          // A plain list: task-list boxes show as literal brackets or dead checkboxes in real clients.
          return `- ${md(def.words)}${span}${hint}`;
        }),
      );
      if (checklist.length > 0) {
        sections.push(`**${t.missing}**\n\n${checklist.join('\n')}`);
      }
      const possible = criteriaWith(trace.nonIndications, 'unknown', 'non.');
      if (possible.length > 0) {
        sections.push(`**${t.possibleNonIndication}**: ${possible.map((c) => md(c.clause ?? c.label ?? '')).join('; ')}`);
      }
    }

    const documented = show(this.loaded.policy.facts.map((f) => f.id).filter((id) => det.facts.get(id)?.value === 'true'));
    if (documented.length > 0) {
      sections.push(`**Also documented**\n\n${documented.join('\n')}`);
    }
    // Ask facts a note denies (SPEC §8.4): why the card no longer asks about them.
    const absent = show(this.loaded.policy.facts.map((f) => f.id).filter((id) => (det.facts.get(id)?.negating.length ?? 0) > 0 && !det.facts.get(id)?.answer));
    if (absent.length > 0) {
      sections.push(`**${t.absent}**\n\n${absent.join('\n')}`);
    }

    const answered = [...det.facts.values()].filter((f) => f.answer && !shown.has(f.id));
    if (answered.length > 0) {
      const lines = answered.map((f) =>
        `- ${fill(t.answerLine, {
          words: md(this.definitions.get(f.id)?.words ?? f.id),
          answer: f.answer?.value ? 'yes' : 'no',
          authored: f.answer?.authored ?? '',
          reference: `\`${f.answer?.reference ?? ''}\``,
          coded: f.coded !== 'unknown' ? fill(t.codedNote, { coded: f.coded === 'true' ? 'documented' : 'not documented' }) : '',
        })}`,
      );
      sections.push(`**${t.answers}**\n\n${lines.join('\n')}`);
    }

    const notesUnread = unreadNotesSentence(det.notes, t.notesUnread);
    if (notesUnread !== undefined) {
      sections.push(notesUnread);
    }
    if (det.unchecked.length > 0) {
      const lines = det.unchecked.map((u) => `- ${SOURCE_LABEL[u.type]}: ${FAILURE_LABEL[u.failure]}`);
      sections.push(`**${t.unchecked}**\n\n${lines.join('\n')}\n\n${t.uncheckedNote}`);
    }
    if (coverage === 'none') {
      sections.push(t.noCoverage);
    } else if (coverage === 'unreadable') {
      sections.push(t.coverageUnreadable);
    }
    sections.push(this.fixed(policyUrl).policyLine);
    return sections.join('\n\n');
  }

  /**
   * Links to the clauses the card cites, each landing on its anchor in the policy page: the indications met, the
   * non-indication that applies, or the non-indications that may apply. Links, not markdown in the detail: a
   * detail link replaces the client's page (the CDS Hooks sandbox).
   */
  private clauseLinks(det: Determination, policyUrl: string): { label: string; url: string; type: 'absolute' }[] {
    const { decision, trace } = det.outcome;
    const cited =
      decision === 'meets-criteria'
        ? criteriaWith(trace.indications, 'true', 'ind.')
        : decision === 'does-not-meet-criteria'
          ? criteriaWith(trace.nonIndications, 'true', 'non.')
          : criteriaWith(trace.nonIndications, 'unknown', 'non.');
    const links: { label: string; url: string; type: 'absolute' }[] = [];
    for (const c of cited) {
      const anchor = c.clause !== undefined ? clauseAnchor(c.clause) : undefined;
      if (c.clause !== undefined && anchor !== undefined && links.length < 3) {
        links.push({ label: fill(this.templates.clauseLink, { clause: clauseName(c.clause), label: c.label ?? c.id ?? '' }), url: `${policyUrl}#${anchor}`, type: 'absolute' });
      }
    }
    return links;
  }

  /** The determination extension of SPEC §7; empty arrays are left out (CDS Hooks JSON carries no empty values). */
  extension(det: Determination): DeterminationExtension {
    const p = this.loaded.policy;
    return {
      policy: { id: p.id, version: p.version },
      order: det.orderReference,
      decision: det.outcome.decision,
      ...(det.satisfied.length > 0 ? { satisfied: det.satisfied } : {}),
      ...(det.outcome.missing.length > 0 ? { missing: det.outcome.missing } : {}),
      ...(det.evidence.length > 0 ? { evidence: det.evidence } : {}),
    };
  }

  /**
   * One card per determination.
   * @param det - the determination
   * @param coverage - whether an active Coverage was found
   * @param policyUrl - absolute URL of the policy text served by this service
   */
  card(det: Determination, coverage: CoverageState, policyUrl: string, extras: { questionnaire?: Questionnaire | undefined; suggestions?: readonly Suggestion[] } = {}): Card {
    const fixed = this.fixed(policyUrl);
    const { decision } = det.outcome;
    const t = this.templates;
    const q = extras.questionnaire;
    const links = [
      ...(q?.url
        ? [
            { label: fixed.questionnaireLabels.missing, url: q.url, type: 'absolute' as const },
            { label: fixed.questionnaireLabels.full, url: `${q.url}-full`, type: 'absolute' as const },
          ]
        : []),
      // Copied per card: a client may change what it is given.
      ...fixed.links.map((l) => ({ ...l })),
      ...this.clauseLinks(det, policyUrl),
    ];
    const suggestions = extras.suggestions ?? [];
    return {
      uuid: randomUUID(),
      summary: this.summary(det),
      indicator: t.indicator[decision],
      detail: this.detail(det, coverage, policyUrl),
      source: { ...fixed.source },
      ...(suggestions.length > 0 ? { suggestions, selectionBehavior: 'at-most-one' as const } : {}),
      links,
      ...(decision !== 'meets-criteria' ? { overrideReasons: t.overrideReasons } : {}),
      extension: { 'necessity.determination': this.extension(det) },
    };
  }
}
