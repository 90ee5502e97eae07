module github.com/iddv/timmybot/infra

go 1.26
