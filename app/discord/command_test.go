package discord

import (
	"regexp"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

var commandName = regexp.MustCompile(`^[-_a-z0-9]{1,32}$`)

func TestCommandTableRegistersWhatItRoutes(t *testing.T) {
	h := &Handlers{}
	table, err := newCommandTable(h.Commands())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*discordgo.ApplicationCommand{}
	for _, ac := range table.applicationCommands() {
		if !commandName.MatchString(ac.Name) || ac.Description == "" || len(ac.Description) > 100 || len(ac.Options) > 25 {
			t.Errorf("command %q does not meet Discord's rules", ac.Name)
		}
		got[ac.Name] = ac
	}
	for _, name := range []string{"play", "queue", "remove", "clear", "nowplaying", "help", "request-access", "allowlist"} {
		if got[name] == nil {
			t.Errorf("command /%s is not registered", name)
		}
	}
	allow := got["allowlist"]
	if allow.DefaultMemberPermissions == nil || *allow.DefaultMemberPermissions != discordgo.PermissionAdministrator {
		t.Errorf("/allowlist must default to administrators only")
	}
	var subs []string
	for _, o := range allow.Options {
		if o.Type != discordgo.ApplicationCommandOptionSubCommand {
			t.Errorf("allowlist option %q is not a subcommand", o.Name)
		}
		subs = append(subs, o.Name)
	}
	if strings.Join(subs, ",") != "approve,revoke,list,requests" {
		t.Errorf("allowlist subcommands = %v", subs)
	}
	play := got["play"].Options[0]
	if play.Name != "query" || !play.Required || play.MaxLength != 2048 || play.Type != discordgo.ApplicationCommandOptionString {
		t.Errorf("/play query option = %+v", play)
	}
}

func TestHelpIsGeneratedFromTheTable(t *testing.T) {
	cmds := (&Handlers{}).Commands()
	member, owner := helpText(cmds, false), helpText(cmds, true)
	for _, want := range []string{"`/play query:<text> [next:<true/false>]`", "`/loop mode:<off|track|queue>`", "`/queue [page:<number>]`", "`/remove position:<number>`", "`/help`", "`/request-access reason:<text>`"} {
		if !strings.Contains(member, want) {
			t.Errorf("member help lacks %s:\n%s", want, member)
		}
	}
	if strings.Contains(member, "/allowlist") {
		t.Errorf("member help shows owner commands:\n%s", member)
	}
	if !strings.Contains(owner, "`/allowlist approve guild:<text>` — Approve a server *(owners)*") {
		t.Errorf("owner help lacks /allowlist approve:\n%s", owner)
	}
}

func TestCommandTableRejectsBadDeclarations(t *testing.T) {
	run := func(c Command) error { _, err := newCommandTable([]Command{c}); return err }
	if run(Command{Name: "x", Description: "d"}) == nil {
		t.Error("command without Run or Subcommands accepted")
	}
	if run(Command{Name: "x", Description: "", Run: echo}) == nil {
		t.Error("command without description accepted")
	}
	if _, err := newCommandTable([]Command{{Name: "x", Description: "d", Run: echo}, {Name: "x", Description: "d", Run: echo}}); err == nil {
		t.Error("duplicate command accepted")
	}
}
