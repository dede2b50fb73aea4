import type { Command, Option } from "commander";

/**
 * `tokensmith completion bash|zsh|fish` (SPEC §3): a script made from the command table itself,
 * so every command and flag is there as `--help` shows them. Commands, flags and preset names
 * are written into the script (a Tab on them starts no process); only connection names are
 * asked of tokensmith at Tab time (`tokensmith [--config PATH] __complete connections`), so
 * they follow the config in use, the `--config` on the line included.
 */

/** What the completion of one positional argument offers. */
export type ArgKind = "connection" | "preset" | "shell" | "file" | "method";

/** What `-X` and `call NAME <Tab>` offer. */
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

export interface CompletionFlag {
  /** Every spelling: `-o`, `--output`. */
  names: string[];
  description: string;
  /** The next word is the flag's value, not an argument. */
  takesValue: boolean;
  /** That value is a file name. */
  file: boolean;
  /** The values it takes, when they are a known few. */
  values?: string[];
}

export interface CompletionCommand {
  name: string;
  description: string;
  flags: CompletionFlag[];
  /** What each positional argument is, by position. */
  args: (ArgKind | undefined)[];
}

export interface CompletionModel {
  globals: CompletionFlag[];
  commands: CompletionCommand[];
  presets: string[];
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** Flags whose value is a file, beyond those whose value is spelled `<file>` or `<path>`. */
const FILE_FLAGS = new Set(["--config", "--output"]);
const HELP: CompletionFlag = { names: ["-h", "--help"], description: "show help", takesValue: false, file: false };

function flagOf(option: Option): CompletionFlag {
  const names = [option.short, option.long].filter((name): name is string => !!name);
  const takesValue = option.required || option.optional;
  const file = takesValue && (FILE_FLAGS.has(option.long ?? "") || /<(?:file|path)>/i.test(option.flags));
  return { names, description: option.description, takesValue, file, values: option.long === "--request" ? METHODS : undefined };
}

/** What a command's argument is: a connection (its description says so), a preset, a shell, a file. */
function argKind(command: string, name: string, description: string): ArgKind | undefined {
  if (command === "completion") return "shell";
  if (command === "providers") return "preset";
  if (name === "method-or-url") return "method";
  if (/connection/i.test(description)) return "connection";
  if (/^(?:file|path)$/i.test(name)) return "file";
  return undefined;
}

/** The model from the program: its global flags (with --help, which every command takes), and the visible commands with their own flags and arguments. */
export function completionModel(program: Command, presets: string[]): CompletionModel {
  const help = program.createHelp();
  const globals = [...program.options.filter((o) => !o.hidden && o.long !== "--version").map(flagOf), HELP];
  const commands = help.visibleCommands(program).filter((c) => c.name() !== "help").map((command) => ({
    name: command.name(),
    description: command.description(),
    flags: command.options.filter((o) => !o.hidden).map(flagOf),
    args: command.registeredArguments.map((arg) => argKind(command.name(), arg.name(), arg.description)),
  }));
  return { globals, commands, presets };
}

export function completionScript(shell: Shell, model: CompletionModel): string {
  return shell === "bash" ? bashScript(model) : shell === "zsh" ? zshScript(model) : fishScript(model);
}

/** A word in single quotes for any of the three shells. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const names = (flags: CompletionFlag[], which: (f: CompletionFlag) => boolean = () => true) => flags.filter(which).flatMap((f) => f.names);

/** `case` arms (bash and zsh share the syntax): `cmd) echo WORDS ;;`. */
function caseArms(model: CompletionModel, words: (c: CompletionCommand) => string[]): string {
  return model.commands.map((c) => `    ${c.name}) echo ${quote(words(c).join(" "))} ;;`).join("\n");
}

function argArms(model: CompletionModel): string {
  const arms = model.commands.flatMap((c) => c.args.map((kind, i) => (kind ? `    ${c.name}:${i}) echo ${kind} ;;` : ""))).filter(Boolean);
  return arms.join("\n");
}

/** The shell functions bash and zsh share: each command's flags, value flags, file flags, argument kinds. */
function sharedFunctions(model: CompletionModel): string {
  const valueFlags = (c: CompletionCommand) => names([...model.globals, ...c.flags], (f) => f.takesValue);
  const fileFlags = (c: CompletionCommand) => names([...model.globals, ...c.flags], (f) => f.file);
  return `_tokensmith_commands=${quote(model.commands.map((c) => c.name).join(" "))}
_tokensmith_globals=${quote(names(model.globals).join(" "))}
_tokensmith_presets=${quote(model.presets.join(" "))}
_tokensmith_flags() {
  case "$1" in
${caseArms(model, (c) => names(c.flags))}
  esac
}
_tokensmith_value_flags() {
  case "$1" in
${caseArms(model, valueFlags)}
    *) echo ${quote(names(model.globals, (f) => f.takesValue).join(" "))} ;;
  esac
}
_tokensmith_file_flags() {
  case "$1" in
${caseArms(model, fileFlags)}
    *) echo ${quote(names(model.globals, (f) => f.file).join(" "))} ;;
  esac
}
_tokensmith_arg() {
  case "$1:$2" in
${argArms(model)}
  esac
}
_tokensmith_flag_values() {
  case "$1" in
${valueArms(model, (flag, values) => `    ${flag.names.join("|")}) echo ${quote(values.join(" "))} ;;`)}
  esac
}`;
}

/** One arm per flag with known values (each flag once, whichever commands have it). */
function valueArms(model: CompletionModel, arm: (flag: CompletionFlag, values: string[]) => string): string {
  const seen = new Set<string>();
  const arms: string[] = [];
  for (const flag of [...model.globals, ...model.commands.flatMap((c) => c.flags)]) {
    const key = flag.names.join(" ");
    if (!flag.values || seen.has(key)) continue;
    seen.add(key);
    arms.push(arm(flag, flag.values));
  }
  return arms.join("\n");
}

/**
 * The words before the cursor as the command sees them: the command, how many arguments
 * follow it, and `--config PATH` if given (a flag's value is not an argument). Same code in
 * bash and zsh, given the words array's first index.
 */
function scanLoop(words: string, first: number, current: string): string {
  return `  local cmd="" pos=0 i w
  local -a config=()
  for ((i = ${first + 1}; i < ${current}; i++)); do
    w="\${${words}[i]}"
    if [[ $w == --config ]]; then
      ((i++))
      [[ \${${words}[i]} == "=" ]] && ((i++))
      w="\${${words}[i]}"
      config=(--config "\${w/#\\~/$HOME}")
      continue
    fi
    if [[ $w == --config=* ]]; then
      w="\${w#--config=}"
      config=(--config "\${w/#\\~/$HOME}")
      continue
    fi
    if [[ $w == -* ]]; then
      [[ " $(_tokensmith_value_flags "$cmd") " == *" $w "* ]] && ((i++))
      continue
    fi
    if [[ -z $cmd ]]; then cmd=$w; else ((pos++)); fi
  done`;
}

function bashScript(model: CompletionModel): string {
  return `# tokensmith completion for bash. Load it in ~/.bashrc:
#   source <(tokensmith completion bash)
# Connection names come from the config in use (the --config on the line, if any).
${sharedFunctions(model)}
_tokensmith() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
${scanLoop("COMP_WORDS", 0, "COMP_CWORD")}
  COMPREPLY=()
  [[ $prev == "=" ]] && prev="\${COMP_WORDS[COMP_CWORD-2]}"
  if [[ " $(_tokensmith_file_flags "$cmd") " == *" $prev "* ]]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  if [[ " $(_tokensmith_value_flags "$cmd") " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -W "$(_tokensmith_flag_values "$prev")" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$_tokensmith_globals $(_tokensmith_flags "$cmd")" -- "$cur"))
    return
  fi
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$_tokensmith_commands" -- "$cur"))
    return
  fi
  case "$(_tokensmith_arg "$cmd" "$pos")" in
    connection)
      local self="\${COMP_WORDS[0]/#\\~/$HOME}"
      COMPREPLY=($(compgen -W "$("$self" "\${config[@]}" __complete connections 2>/dev/null)" -- "$cur")) ;;
    preset) COMPREPLY=($(compgen -W "$_tokensmith_presets" -- "$cur")) ;;
    shell) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
    method) COMPREPLY=($(compgen -W ${quote(METHODS.join(" "))} -- "$cur")) ;;
    file)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _tokensmith tokensmith
`;
}

/** `name:description` items for zsh's _describe (a colon in the name escaped). */
function describeItems(items: { name: string; description: string }[]): string {
  return items.map((item) => `    ${quote(`${item.name.replace(/:/g, "\\:")}:${item.description}`)}`).join("\n");
}

function zshScript(model: CompletionModel): string {
  const flagItems = (flags: CompletionFlag[]) => flags.flatMap((f) => f.names.map((name) => ({ name, description: f.description })));
  const flagArms = model.commands
    .map((c) => `    ${c.name}) items=(\n${describeItems(flagItems(c.flags))}\n    ) ;;`)
    .join("\n");
  return `#compdef tokensmith
# tokensmith completion for zsh. Load it in ~/.zshrc, after compinit:
#   source <(tokensmith completion zsh)
# or save it as _tokensmith in a folder of $fpath.
# Connection names come from the config in use (the --config on the line, if any).
${sharedFunctions(model)}
_tokensmith_describe_flags() {
  local -a items
  case "$1" in
${flagArms}
  esac
  items+=(
${describeItems(flagItems(model.globals))}
  )
  _describe -t flags 'flag' items
}
_tokensmith() {
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}"
  local -a found
${scanLoop("words", 1, "CURRENT")}
  if [[ " $(_tokensmith_file_flags "$cmd") " == *" $prev "* ]]; then _files; return; fi
  if [[ " $(_tokensmith_value_flags "$cmd") " == *" $prev "* ]]; then
    found=(\${=$(_tokensmith_flag_values "$prev")})
    (( \${#found} )) && _wanted values expl 'value' compadd -a found
    return
  fi
  if [[ $cur == -* ]]; then _tokensmith_describe_flags "$cmd"; return; fi
  if [[ -z $cmd ]]; then
    local -a commands
    commands=(
${describeItems(model.commands)}
    )
    _describe -t commands 'tokensmith command' commands
    return
  fi
  case "$(_tokensmith_arg "$cmd" "$pos")" in
    connection)
      found=(\${(f)"$(\${~words[1]} "\${config[@]}" __complete connections 2>/dev/null)"})
      _wanted connections expl 'connection' compadd -a found ;;
    preset) found=(\${=_tokensmith_presets}); _wanted presets expl 'provider preset' compadd -a found ;;
    shell) _wanted shells expl 'shell' compadd bash zsh fish ;;
    method) _wanted methods expl 'method' compadd ${METHODS.join(" ")} ;;
    file) _files ;;
  esac
}
if [[ "\${funcstack[1]}" == _tokensmith ]]; then
  _tokensmith "$@"
else
  compdef _tokensmith tokensmith
fi
`;
}

function fishScript(model: CompletionModel): string {
  const lines = (flags: CompletionFlag[]) => flags.flatMap((f) => f.names.map((name) => `${name}\t${f.description}`));
  const flagArms = model.commands.map((c) => `    case ${c.name}\n      printf '%s\\n' ${lines(c.flags).map(quote).join(" ")}`).join("\n");
  const listArms = (pick: (c: CompletionCommand) => string[]) =>
    model.commands.map((c) => `    case ${c.name}\n      printf '%s\\n' ${pick(c).map(quote).join(" ")}`).join("\n");
  const argArms = model.commands
    .flatMap((c) => c.args.map((kind, i) => (kind ? `    case ${quote(`${c.name}:${i}`)}\n      echo ${kind}` : "")))
    .filter(Boolean)
    .join("\n");
  const globalValues = names(model.globals, (f) => f.takesValue).map(quote).join(" ");
  const globalFiles = names(model.globals, (f) => f.file).map(quote).join(" ");
  return `# tokensmith completion for fish. Load it in ~/.config/fish/config.fish:
#   tokensmith completion fish | source
# or save it as ~/.config/fish/completions/tokensmith.fish.
# Connection names come from the config in use (the --config on the line, if any).
function __tokensmith_value_flags
  switch $argv[1]
${listArms((c) => names([...model.globals, ...c.flags], (f) => f.takesValue))}
    case '*'
      printf '%s\\n' ${globalValues}
  end
end
function __tokensmith_file_flags
  switch $argv[1]
${listArms((c) => names([...model.globals, ...c.flags], (f) => f.file))}
    case '*'
      printf '%s\\n' ${globalFiles}
  end
end
function __tokensmith_arg
  switch "$argv[1]:$argv[2]"
${argArms}
  end
end
function __tokensmith_complete
  set -l words (commandline -opc)
  set -l cur (commandline -ct)
  set -l cmd ''
  set -l pos 0
  set -l config
  set -l i 2
  while test $i -le (count $words)
    set -l w $words[$i]
    if test "$w" = --config
      set i (math $i + 1)
      set config --config $words[$i]
    else if string match -q -- '--config=*' $w
      set config --config (string replace -- '--config=' '' $w)
    else if string match -q -- '-*' $w
      if contains -- $w (__tokensmith_value_flags "$cmd")
        set i (math $i + 1)
      end
    else if test -z "$cmd"
      set cmd $w
    else
      set pos (math $pos + 1)
    end
    set i (math $i + 1)
  end
  set -l prev ''
  if test (count $words) -ge 2
    set prev $words[-1]
  end
  if test -n "$prev"; and contains -- $prev (__tokensmith_file_flags "$cmd")
    __fish_complete_path $cur
    return
  end
  if test -n "$prev"; and contains -- $prev (__tokensmith_value_flags "$cmd")
    switch $prev
${valueArms(model, (flag, values) => `      case ${flag.names.map(quote).join(" ")}\n        printf '%s\\n' ${values.map(quote).join(" ")}`)}
    end
    return
  end
  if string match -q -- '-*' $cur
    printf '%s\\n' ${lines(model.globals).map(quote).join(" ")}
    switch "$cmd"
${flagArms}
    end
    return
  end
  if test -z "$cmd"
    printf '%s\\n' ${model.commands.map((c) => quote(`${c.name}\t${c.description}`)).join(" ")}
    return
  end
  switch (__tokensmith_arg $cmd $pos)
    case connection
      for name in (command $words[1] $config __complete connections 2>/dev/null)
        printf '%s\\tconnection\\n' $name
      end
    case preset
      printf '%s\\tpreset\\n' ${model.presets.map(quote).join(" ")}
    case shell
      printf '%s\\n' bash zsh fish
    case method
      printf '%s\\tmethod\\n' ${METHODS.join(" ")}
    case file
      __fish_complete_path $cur
  end
end
complete -c tokensmith -f -a '(__tokensmith_complete)'
`;
}
