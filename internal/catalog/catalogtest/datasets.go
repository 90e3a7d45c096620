package catalogtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
)

func testDatasets(t *testing.T, newStore func(t *testing.T) Opener) {
	ctx := context.Background()

	t.Run("Create", func(t *testing.T) {
		e := newEnv(t, newStore)
		start := e.clock.Now()
		in := &catalog.Dataset{Project: "p", ID: "ds_1", Extra: map[string]json.RawMessage{
			"description": raw(`"hello"`), "labels": raw(`{"team": "ingest"}`)}}
		got, err := e.cat.CreateDataset(ctx, in)
		if err != nil {
			t.Fatalf("CreateDataset: %v", err)
		}
		if got.Project != "p" || got.ID != "ds_1" {
			t.Errorf("CreateDataset: got %s:%s, want p:ds_1", got.Project, got.ID)
		}
		if got, want := got.Location, "US"; got != want {
			t.Errorf("default Location: got %q, want %q", got, want)
		}
		wantTime(t, "CreationTime", got.CreationTime, start)
		wantTime(t, "ModifiedTime", got.ModifiedTime, start)
		if got.ETag == "" {
			t.Errorf("ETag is empty")
		}
		if g, w := extraJSON(got.Extra), `{"description":"hello","labels":{"team":"ingest"}}`; g != w {
			t.Errorf("Extra: got %s, want %s", g, w)
		}

		read, err := e.cat.GetDataset(ctx, "p", "ds_1")
		if err != nil {
			t.Fatalf("GetDataset: %v", err)
		}
		if read.ETag != got.ETag || read.Location != got.Location || extraJSON(read.Extra) != extraJSON(got.Extra) {
			t.Errorf("GetDataset: got %+v, want %+v", read, got)
		}
		wantTime(t, "GetDataset CreationTime", read.CreationTime, start)

		// Returned values are copies.
		read.Extra["description"] = raw(`"changed"`)
		in.Extra["labels"] = raw(`{}`)
		again, _ := e.cat.GetDataset(ctx, "p", "ds_1")
		if g, w := extraJSON(again.Extra), `{"description":"hello","labels":{"team":"ingest"}}`; g != w {
			t.Errorf("stored Extra changed through a returned or passed map: got %s, want %s", g, w)
		}
	})

	t.Run("Location", func(t *testing.T) {
		e := newEnv(t, newStore)
		got, err := e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "eu", Location: "EU"})
		if err != nil {
			t.Fatalf("CreateDataset: %v", err)
		}
		if got.Location != "EU" {
			t.Errorf("Location: got %q, want EU", got.Location)
		}
	})

	t.Run("ErrDatasetExists", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		_, err := e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"})
		wantErr(t, "second CreateDataset", err, catalog.ErrDatasetExists)
		// Same id in another project, or differing only in case, is a
		// different dataset.
		e.mustCreateDataset("q", "d")
		e.mustCreateDataset("p", "D")
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		e := newEnv(t, newStore)
		msg := `Invalid dataset ID "x-y". Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.`
		_, err := e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "x-y"})
		wantInvalid(t, "dash", err, msg)
		if got := catalog.Message(err); got != msg {
			t.Errorf("Message: got %q, want %q", got, msg)
		}
		for _, id := range []string{"", "a b", "a.b", "ä", "a$b", strings.Repeat("a", 1025)} {
			_, err := e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: id})
			wantInvalid(t, "CreateDataset("+id+")", err, "Invalid dataset ID")
		}
		if _, err := e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: strings.Repeat("a", 1024)}); err != nil {
			t.Errorf("1024-character id: %v", err)
		}
		_, err = e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "bad_extra",
			Extra: map[string]json.RawMessage{"labels": raw(`{not json`)}})
		wantInvalid(t, "invalid Extra JSON", err, "labels")
		_, err = e.cat.CreateDataset(ctx, nil)
		wantErr(t, "nil dataset", err, catalog.ErrInvalid)
		_, err = e.cat.CreateDataset(ctx, &catalog.Dataset{ID: "noproject"})
		wantErr(t, "empty project", err, catalog.ErrInvalid)
	})

	t.Run("ErrDatasetNotFound", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		_, err := e.cat.GetDataset(ctx, "p", "nope")
		wantErr(t, "GetDataset", err, catalog.ErrDatasetNotFound)
		_, err = e.cat.GetDataset(ctx, "other", "d")
		wantErr(t, "GetDataset other project", err, catalog.ErrDatasetNotFound)
		_, err = e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "nope"}, "")
		wantErr(t, "UpdateDataset", err, catalog.ErrDatasetNotFound)
		wantErr(t, "DeleteDataset", e.cat.DeleteDataset(ctx, "p", "nope", false), catalog.ErrDatasetNotFound)
		wantErr(t, "DeleteDataset contents", e.cat.DeleteDataset(ctx, "p", "nope", true), catalog.ErrDatasetNotFound)
	})

	t.Run("List", func(t *testing.T) {
		e := newEnv(t, newStore)
		if got, err := e.cat.ListDatasets(ctx, "p"); err != nil || len(got) != 0 {
			t.Fatalf("ListDatasets(empty project): got %v, %v; want none", got, err)
		}
		for _, id := range []string{"c", "a", "b_2", "b"} {
			e.mustCreateDataset("p", id)
		}
		e.mustCreateDataset("q", "zz")
		got, err := e.cat.ListDatasets(ctx, "p")
		if err != nil {
			t.Fatalf("ListDatasets: %v", err)
		}
		var ids []string
		for _, d := range got {
			if d.Project != "p" {
				t.Errorf("ListDatasets(p) returned project %q", d.Project)
			}
			ids = append(ids, d.ID)
		}
		if g, w := strings.Join(ids, ","), "a,b,b_2,c"; g != w {
			t.Errorf("ListDatasets order: got %s, want %s", g, w)
		}
	})

	t.Run("Update", func(t *testing.T) {
		e := newEnv(t, newStore)
		created, err := e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d", Location: "EU",
			Extra: map[string]json.RawMessage{"description": raw(`"one"`), "friendlyName": raw(`"F"`)}})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		upd, err := e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d", Location: "asia-east1",
			Extra: map[string]json.RawMessage{"description": raw(`"two"`)}}, "")
		if err != nil {
			t.Fatalf("UpdateDataset: %v", err)
		}
		if g, w := extraJSON(upd.Extra), `{"description":"two"}`; g != w {
			t.Errorf("Extra after update: got %s, want %s (Extra is replaced, not merged)", g, w)
		}
		if upd.Location != "EU" {
			t.Errorf("Location after update: got %q, want EU (immutable)", upd.Location)
		}
		wantTime(t, "CreationTime", upd.CreationTime, created.CreationTime)
		wantTime(t, "ModifiedTime", upd.ModifiedTime, created.ModifiedTime.Add(time.Second))
		if upd.ETag == created.ETag {
			t.Errorf("ETag unchanged by update: %q", upd.ETag)
		}
		read, _ := e.cat.GetDataset(ctx, "p", "d")
		if read.ETag != upd.ETag || extraJSON(read.Extra) != extraJSON(upd.Extra) {
			t.Errorf("GetDataset after update: got %+v, want %+v", read, upd)
		}

		// The ETag changes even when the clock does not move.
		upd2, err := e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}, upd.ETag)
		if err != nil {
			t.Fatalf("UpdateDataset with current etag: %v", err)
		}
		if upd2.ETag == upd.ETag {
			t.Errorf("ETag unchanged by an update at the same instant")
		}
		if len(upd2.Extra) != 0 {
			t.Errorf("Extra after clearing: got %s", extraJSON(upd2.Extra))
		}
	})

	t.Run("ErrPreconditionFailed", func(t *testing.T) {
		e := newEnv(t, newStore)
		created := e.mustCreateDataset("p", "d")
		_, err := e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d",
			Extra: map[string]json.RawMessage{"description": raw(`"x"`)}}, "stale-etag")
		wantErr(t, "UpdateDataset(stale etag)", err, catalog.ErrPreconditionFailed)
		read, _ := e.cat.GetDataset(ctx, "p", "d")
		if read.ETag != created.ETag || len(read.Extra) != 0 {
			t.Errorf("refused update changed the dataset: %+v", read)
		}
		first, err := e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}, created.ETag)
		if err != nil {
			t.Fatalf("UpdateDataset(current etag): %v", err)
		}
		_, err = e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}, created.ETag)
		wantErr(t, "UpdateDataset(etag before last update)", err, catalog.ErrPreconditionFailed)
		if _, err := e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}, first.ETag); err != nil {
			t.Errorf("UpdateDataset(latest etag): %v", err)
		}
	})
}
