package main

import (
	"context"
	"fmt"
	"os"

	"github.com/evalguard/evalguard-go"
)

func main() {
	client := evalguard.NewClient(os.Getenv("EVALGUARD_API_KEY"))
	resp, err := client.Request(context.Background(), "POST", "/api/v1/auto-eval", map[string]any{"target": map[string]any{}, "sample_count": 100})
	if err != nil { panic(err) }
	fmt.Println(resp)
}
