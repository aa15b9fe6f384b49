/**
 * Splits a shell line into words the way sh does for the cases a host shell needs: blanks separate
 * words, '…' quotes literally, "…" quotes with \" \\ \$ escapes, a backslash outside quotes escapes the
 * next character, `#` at the start of a word begins a comment, and `>` / `>>` redirect stdout to a
 * file (for `echo 1 > /sys/...`), `2>&1` and `2>/dev/null` send a command's stderr into its stdout or
 * nowhere, and `|` separates the commands of a pipeline. No variables, globs,
 * `||`/`&&`/`;` lists or command substitution.
 *
 * SPEC-DEVIATION: a redirect is accepted only on the last command of a pipeline (bash allows one on
 * each); `a > f | b` is a syntax error here.
 */
import { badInput } from '../../base/index.js';

export interface ParsedLine {
  /** The first command's words (the whole line when there is no pipe). */
  readonly words: string[];
  /** Every command of the pipeline, in order; `pipeline[0]` is `words`. */
  readonly pipeline: string[][];
  readonly redirect?: { readonly path: string; readonly append: boolean };
  /** Per command of the pipeline: where `2>` sent its stderr (undefined: the terminal). */
  readonly stderrTo: (StderrTarget | undefined)[];
}

export type StderrTarget = 'stdout' | 'null';

export function tokenize(line: string): ParsedLine {
  const pipeline: string[][] = [[]];
  let words = pipeline[0]!;
  let redirect: { path: string; append: boolean } | undefined;
  let pendingRedirect: { append: boolean } | undefined;
  let pendingStderr = false;
  const stderrTo: (StderrTarget | undefined)[] = [undefined];
  let word = '';
  let inWord = false;
  let quoted = false;
  const finish = (): void => {
    if (!inWord) return;
    if (pendingStderr) {
      if (word !== '&1' && word !== '/dev/null')
        throw badInput(`stderr can only be redirected to &1 or /dev/null, not '${word}'`);
      stderrTo[stderrTo.length - 1] = word === '&1' ? 'stdout' : 'null';
      pendingStderr = false;
    } else if (pendingRedirect !== undefined) {
      redirect = { path: word, append: pendingRedirect.append };
      pendingRedirect = undefined;
    } else {
      words.push(word);
    }
    word = '';
    inWord = false;
    quoted = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      finish();
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === '|') {
      finish();
      if (line[i + 1] === '|') throw badInput("syntax error near unexpected token `||'");
      if (words.length === 0 || pendingRedirect !== undefined)
        throw badInput("syntax error near unexpected token `|'");
      if (redirect !== undefined)
        throw badInput('a redirect is only supported on the last command of a pipeline');
      words = [];
      pipeline.push(words);
      stderrTo.push(undefined);
    } else if (c === '>' && inWord && !quoted && word === '2') {
      // `2>`: the word before was the file descriptor, not an argument.
      word = '';
      inWord = false;
      if (pendingStderr || pendingRedirect !== undefined)
        throw badInput("syntax error near unexpected token `>'");
      pendingStderr = true;
    } else if (c === '>') {
      finish();
      if (pendingRedirect !== undefined || redirect !== undefined) {
        throw badInput("syntax error near unexpected token `>'");
      }
      const append = line[i + 1] === '>';
      if (append) i++;
      pendingRedirect = { append };
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw badInput("unexpected EOF while looking for matching `''");
      word += line.slice(i + 1, end);
      inWord = true;
      quoted = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      quoted = true;
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) j++;
        word += line[j];
      }
      if (j >= line.length) throw badInput('unexpected EOF while looking for matching `"\'');
      i = j;
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[++i];
      inWord = true;
      quoted = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  finish();
  if (pendingRedirect !== undefined || pendingStderr)
    throw badInput("syntax error near unexpected token `newline'");
  if (pipeline.length > 1 && words.length === 0) throw badInput("syntax error near unexpected token `|'");
  const first = pipeline[0]!;
  return redirect === undefined
    ? { words: first, pipeline, stderrTo }
    : { words: first, pipeline, redirect, stderrTo };
}
