module github.com/iddv/timmybot/test

go 1.26
