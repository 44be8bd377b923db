package evalguard_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/evalguard/evalguard-go"
)

// A deploy step: trigger an auto-eval of the deployed target, wait for it,
// and list the flagged samples with the judge's reasoning.
func Example() {
	ctx := context.Background()
	client := evalguard.NewClient(os.Getenv("EVALGUARD_API_KEY"), evalguard.WithBaseURL("https://evalguard.internal"))
	target := evalguard.Target{Model: "gpt-4o-mini", PromptID: "answer-v3", ProjectID: "support-bot"}

	created, err := client.AutoEval.Create(ctx, target, 500, nil)
	if err != nil {
		log.Fatal(err)
	}
	job, err := client.AutoEval.Wait(ctx, created.JobID, 15*time.Minute)
	var timeout *evalguard.WaitTimeoutError
	if errors.As(err, &timeout) {
		log.Fatalf("job %s still %s", timeout.Job.JobID, timeout.Job.Status)
	} else if err != nil {
		log.Fatal(err)
	}
	for _, flag := range job.Flags {
		fmt.Println(flag.Kind, flag.Severity, flag.Message)
	}
	it := client.AutoEval.Results(ctx, job.JobID, evalguard.OnlyFlagged)
	for it.Next() {
		r := it.Current()
		fmt.Println(r.SampleID, r.Scores["hallucination"].Reasoning)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
}

// Samples produced one at a time, sent in batches from a background goroutine.
func ExampleTrafficService_NewBuffer() {
	client := evalguard.NewClient(os.Getenv("EVALGUARD_API_KEY"))
	buf := client.Traffic.NewBuffer(evalguard.BufferOptions{
		OnDrop: func(s []evalguard.Sample, reason evalguard.DropReason, err error) {
			log.Printf("evalguard: dropped %d samples (%s): %v", len(s), reason, err)
		},
	})
	defer buf.Close(context.Background())

	buf.Add(evalguard.Sample{
		ProjectID: "support-bot", Model: "gpt-4o-mini", PromptID: "answer-v3",
		Input: "When is the office open?", Output: "From 9 to 5 on weekdays.",
		LatencyMS: evalguard.Ptr(640.0),
	})
}
