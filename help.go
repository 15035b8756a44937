package main

// The layout of --help, the same for the app and every command: sections
// under upper-case headings at the left margin (USAGE, DESCRIPTION,
// EXAMPLES, COMMANDS, then the options of each category), never headings
// of another style inside a section.
//
// A command's usage text is written as one string: the synopsis lines,
// a blank line and what the command does, then "EXAMPLES:" and one
// example a line. splitHelp cuts it into the sections.

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// helpCategories are the flag categories in the order --help shows them.
var helpCategories = []string{catMode, catConn, catData, catTLS, catOutput}

// splitHelp cuts a usage text into its synopsis, its description and its
// examples; a part it lacks is "".
func splitHelp(text string) (synopsis, description, examples string) {
	text, examples, _ = strings.Cut(text, "\nEXAMPLES:\n")
	synopsis, description, _ = strings.Cut(strings.TrimRight(text, "\n"), "\n\n")
	return synopsis, description, strings.TrimRight(examples, "\n")
}

// helpTemplate is the text/template of a --help page. head is the part
// before the options (the app adds its commands there); examples are
// quoted into the template as text.
func helpTemplate(examples string, commands bool) string {
	var b strings.Builder
	b.WriteString(`NAME:
   {{template "helpNameTemplate" .}}

USAGE:
   {{wrap .UsageText 3}}{{if .Description}}

DESCRIPTION:
   {{wrap .Description 3}}{{end}}`)
	if examples != "" {
		b.WriteString("\n\nEXAMPLES:\n   " + templateText(strings.ReplaceAll(examples, "\n", "\n   ")))
	}
	if commands {
		b.WriteString(`{{if .VisibleCommands}}

COMMANDS:{{template "visibleCommandTemplate" .}}{{end}}`)
	}
	// Each category under its own heading, "CONNECTION OPTIONS:"; the
	// flags without one (--help, --version) under "OPTIONS:".
	b.WriteString("{{range .VisibleFlagCategories}}\n\n")
	for _, c := range helpCategories {
		b.WriteString(`{{if eq .Name "` + c + `"}}` + strings.ToUpper(c) + ` {{else}}`)
	}
	b.WriteString(strings.Repeat("{{end}}", len(helpCategories)))
	b.WriteString("OPTIONS:{{range .Flags}}\n   {{.}}{{end}}{{end}}\n")
	return b.String()
}

// templateText quotes s so that text/template prints it as it is.
func templateText(s string) string {
	return strings.ReplaceAll(s, "{{", `{{"{{"}}`)
}

// withHelp sets a command's help sections from its usage text.
func withHelp(c *cli.Command, usageText string) *cli.Command {
	var examples string
	c.UsageText, c.Description, examples = splitHelp(usageText)
	c.CustomHelpTemplate = helpTemplate(examples, false)
	return c
}
