# zsh -f capture.zsh FPATHDIR LINE...
#
# Prints what zsh's completion system offers at the end of each LINE, one
# candidate per line, each LINE's list ended by "<<end>>". An interactive
# zsh runs in a pseudo-terminal (zsh/zpty), with compinit loading _sonde
# from FPATHDIR, and compadd wrapped to print the matches it is given. TAB
# runs a widget that completes and then prints the end marker; a
# post-completion hook (armed anew each time: zsh empties comppostfuncs
# after use) stops zsh from inserting or listing anything, so Ctrl-U
# leaves a clean buffer for the next LINE. The host list is fixed with a
# zstyle, so host completion has a known answer.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "fpath=(${(q)1} \$fpath); PROMPT=; RPROMPT=; bindkey -e; autoload -U compinit; compinit -u -D"
zpty -w z 'zstyle ":completion:*" hosts testhost.example'
# The markers are spelled in two pieces so that zsh's echo of these lines never matches.
zpty -w z 'compadd() { if [[ ${(j: :)@[1,(i)(-|--)]} == *-[OAD]* ]]; then builtin compadd "$@"; return; fi; local -a __m; builtin compadd -A __m "$@"; local __x; for __x in $__m; do print -r -- "<<""match>>$IPREFIX$__x"; done; builtin compadd "$@"; }'
zpty -w z '_capture_quiet() { compstate[insert]=; compstate[list]= }'
zpty -w z '_capture_complete() { comppostfuncs=(_capture_quiet); zle complete-word; print -r -- "<<""done>>" }'
zpty -w z 'zle -N _capture_complete; bindkey "^I" _capture_complete'
shift
local line text
for text in "$@"; do
  zpty -n -w z $'\C-u'"$text"$'\t'
  while :; do
    zpty -r z line || exit 4
    [[ $line == *'<<done>>'* ]] && break
    [[ $line == *'<<match>>'* ]] && print -r -- ${${line#*<<match>>}%$'\r'}
  done
  print -r -- '<<end>>'
done
zpty -d z
