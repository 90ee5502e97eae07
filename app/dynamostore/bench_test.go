package dynamostore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/storetest"
)

// meter asks every request for its consumed capacity and adds it up while
// on: read units from reads, write units from writes.
type meter struct {
	dynamostore.API
	mu       sync.Mutex
	on       bool
	rcu, wcu float64
}

func (m *meter) add(write bool, ccs ...types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.on {
		return
	}
	for _, cc := range ccs {
		if cc.CapacityUnits == nil {
			continue
		}
		if write {
			m.wcu += *cc.CapacityUnits
		} else {
			m.rcu += *cc.CapacityUnits
		}
	}
}

func (m *meter) set(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.on = on
}

// Start, Stop, Reset and Report make the meter a storetest.Meter.
func (m *meter) Start() { m.set(true) }
func (m *meter) Stop()  { m.set(false) }

func (m *meter) Report(b *testing.B) {
	rcu, wcu := m.units()
	b.ReportMetric(rcu/float64(b.N), "RCU/op")
	b.ReportMetric(wcu/float64(b.N), "WCU/op")
}

func (m *meter) units() (rcu, wcu float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rcu, m.wcu
}

func (m *meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rcu, m.wcu = 0, 0
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

const total = types.ReturnConsumedCapacityTotal

func (m *meter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.GetItem(ctx, in, opts...)
	if err == nil {
		m.add(false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.PutItem(ctx, in, opts...)
	if err == nil {
		m.add(true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.DeleteItem(ctx, in, opts...)
	if err == nil {
		m.add(true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (m *meter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.BatchGetItem(ctx, in, opts...)
	if err == nil {
		m.add(false, out.ConsumedCapacity...)
	}
	return out, err
}

func (m *meter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.BatchWriteItem(ctx, in, opts...)
	if err == nil {
		m.add(true, out.ConsumedCapacity...)
	}
	return out, err
}

func (m *meter) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := m.API.Scan(ctx, in, opts...)
	if err == nil {
		m.add(false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

// BenchmarkQueue measures each queue operation at queue lengths 10, 1,000
// and 10,000 (see storetest.BenchQueue): latency on the local server, and
// the capacity units DynamoDB reports (dynalite computes them from item sizes by DynamoDB's rules:
// reads per started 4 KB, halved when eventually consistent; writes per
// started 1 KB of the larger of the old and new item).
func BenchmarkQueue(b *testing.B) {
	endpoint := dynamotest.Endpoint(b)
	client := dynamotest.Client(b, endpoint)
	m := &meter{API: client}
	s, err := dynamostore.New(m, dynamotest.NewTables(b, client))
	if err != nil {
		b.Fatal(err)
	}
	storetest.BenchQueue(b, s, m)
}
