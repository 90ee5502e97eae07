package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// container is the part of a testcontainers container this program uses.
type container interface {
	PortEndpoint(ctx context.Context, port, proto string) (string, error)
	Terminate(ctx context.Context, opts ...testcontainers.TerminateOption) error
}

// runContainer starts image and returns the container, which may be
// non-nil even when err is not: a container that started but never became
// ready.
type runContainer func(ctx context.Context, image string) (container, error)

const dynamoDBLocalPort = "8000/tcp"

// startContainer starts image through run and returns its server; a
// container that fails to start is terminated before the error returns.
func startContainer(ctx context.Context, image string, run runContainer) (server, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute) // pulling the image included
	defer cancel()
	ctr, err := run(ctx, image)
	if err == nil {
		var ep string
		if ep, err = ctr.PortEndpoint(ctx, dynamoDBLocalPort, "http"); err == nil {
			return server{endpoint: ep, stop: func(ctx context.Context) error { return ctr.Terminate(ctx) }}, nil
		}
	}
	if ctr != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if terr := ctr.Terminate(stopCtx); terr != nil {
			err = errors.Join(err, fmt.Errorf("terminating the failed container: %w", terr))
		}
	}
	return server{}, fmt.Errorf("starting %s: %w", image, err)
}

// runTestcontainer starts DynamoDB Local's image through testcontainers,
// after checking quickly that a container engine answers.
func runTestcontainer(ctx context.Context, image string) (container, error) {
	if err := engineHealthy(ctx); err != nil {
		return nil, fmt.Errorf("no container engine is healthy: %w", err)
	}
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithExposedPorts(dynamoDBLocalPort),
		testcontainers.WithCmd("-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb"),
		testcontainers.WithWaitStrategy(wait.ForListeningPort(dynamoDBLocalPort)),
	)
	if ctr == nil { // a nil *DockerContainer must not become a non-nil container
		return nil, err
	}
	return ctr, err
}

// engineHealthy reports why no container engine is usable, or nil.
func engineHealthy(ctx context.Context) (err error) {
	defer func() {
		// The provider lookup panics on some broken Docker setups.
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return err
	}
	defer provider.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return provider.Health(ctx)
}
