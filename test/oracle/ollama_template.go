// Renders an Ollama TEMPLATE with Go's own text/template, the engine Ollama uses, for the export tests.
// Input on stdin: {"template": "...", "conversations": [[{"role": "...", "content": "..."}]]}.
// Output: a JSON array with one rendered prompt per conversation.
// The values follow Ollama's template/template.go: .Messages with consecutive messages of one role joined by a
// blank line (collate), .System all system messages joined the same way.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type Request struct {
	Template      string      `json:"template"`
	Conversations [][]Message `json:"conversations"`
}

func collate(msgs []Message) (string, []*Message) {
	var system []string
	var collated []*Message
	for i := range msgs {
		msg := msgs[i]
		if msg.Role == "system" {
			system = append(system, msg.Content)
		}
		if len(collated) > 0 && collated[len(collated)-1].Role == msg.Role {
			collated[len(collated)-1].Content += "\n\n" + msg.Content
		} else {
			collated = append(collated, &msg)
		}
	}
	return strings.Join(system, "\n\n"), collated
}

func main() {
	var req Request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	tmpl, err := template.New("TEMPLATE").Parse(req.Template)
	if err != nil {
		fmt.Fprintln(os.Stderr, "template does not parse:", err)
		os.Exit(1)
	}
	out := []string{}
	for _, conv := range req.Conversations {
		system, messages := collate(conv)
		var sb strings.Builder
		if err := tmpl.Execute(&sb, map[string]any{"System": system, "Messages": messages, "Tools": nil, "Response": ""}); err != nil {
			fmt.Fprintln(os.Stderr, "template fails:", err)
			os.Exit(1)
		}
		out = append(out, sb.String())
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
