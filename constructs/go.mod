module github.com/iddv/timmybot/constructs

go 1.26
