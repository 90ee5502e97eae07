// Command infra is TimmyBot's CDK app: `cdk synth` and `cdk deploy` run it
// (see cdk.json). The stacks and their configuration live in package stacks.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/iddv/timmybot/infra/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := stacks.LoadConfig(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(2)
	}
	stacks.New(app, cfg)
	app.Synth(nil)
}
