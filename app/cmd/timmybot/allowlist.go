package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// allowlistCommand runs `timmybot allowlist …` against the store the
// configuration selects.
func allowlistCommand(ctx context.Context, args []string, lookup lookupFunc, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("allowlist needs a subcommand: approve, revoke, list or requests")}
	}
	sub, args := args[0], args[1:]
	wantArgs := map[string]int{"approve": 1, "revoke": 1, "list": 0, "requests": 0}
	n, known := wantArgs[sub]
	if !known {
		return usageError{fmt.Errorf("unknown allowlist subcommand %q", sub)}
	}
	if len(args) != n {
		return usageError{fmt.Errorf("allowlist %s takes %d argument(s), got %d", sub, n, len(args))}
	}
	var guild music.GuildID
	if n == 1 {
		guild = music.GuildID(args[0])
		if err := guild.Validate(); err != nil {
			return usageError{fmt.Errorf("%s", music.ErrorMessage(err))}
		}
	}
	c, err := loadConfig(lookup, false)
	if err != nil {
		return configError{err}
	}
	if sub == "approve" && len(c.Owners) == 0 {
		return configError{errors.New("TIMMYBOT_OWNER_IDS is not set: an approval records which owner gave it; " +
			"set TIMMYBOT_OWNER_IDS to your Discord user ID (several owners: comma-separated)")}
	}
	st, err := openStores(ctx, c)
	if err != nil {
		return err
	}
	defer st.close()

	switch sub {
	case "approve":
		if err := st.allowlist.Approve(ctx, music.Approval{Guild: guild, ApprovedBy: c.Owners[0], ApprovedAt: time.Now()}); err != nil {
			return storeError("approving "+string(guild), err)
		}
		fmt.Fprintf(stdout, "approved %s\n", guild)
	case "revoke":
		if err := st.allowlist.Revoke(ctx, guild); err != nil {
			return storeError("revoking "+string(guild), err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", guild)
	case "list":
		list, err := st.allowlist.Approved(ctx)
		if err != nil {
			return storeError("listing approved servers", err)
		}
		return writeTable(stdout, "GUILD\tAPPROVED BY\tAPPROVED AT", list, func(a music.Approval) string {
			return fmt.Sprintf("%s\t%s\t%s", a.Guild, a.ApprovedBy, a.ApprovedAt.UTC().Format(time.RFC3339))
		})
	case "requests":
		list, err := st.allowlist.Requests(ctx)
		if err != nil {
			return storeError("listing access requests", err)
		}
		return writeRequests(stdout, list)
	}
	return nil
}

// writeRequests writes one row per kept asker of each request; askers past
// music.MaxAskers are only counted, in a last row of their own.
func writeRequests(w io.Writer, list []music.AccessRequest) error {
	return writeTable(w, "GUILD\tNAME\tASKED BY\tASKED AT\tREASON", list, func(r music.AccessRequest) string {
		rows := make([]string, 0, len(r.Askers)+1)
		for _, a := range r.Askers {
			rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%s\t%q", r.Guild, r.GuildName, a.User, a.At.UTC().Format(time.RFC3339), a.Reason))
		}
		if more := r.Asks - len(r.Askers); more > 0 {
			rows = append(rows, fmt.Sprintf("%s\t%s\t(%d more)\t\t", r.Guild, r.GuildName, more))
		}
		return strings.Join(rows, "\n")
	})
}

// storeError reports a failed store call: a music.Error by its message,
// which is all it carries, anything else in full.
func storeError(doing string, err error) error {
	var me *music.Error
	if errors.As(err, &me) {
		return fmt.Errorf("%s: %s", doing, me.Message)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// writeTable writes header and one row per item, with tab-separated columns
// aligned.
func writeTable[T any](w io.Writer, header string, items []T, row func(T) string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, item := range items {
		fmt.Fprintln(tw, row(item))
	}
	return tw.Flush()
}
