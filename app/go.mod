module github.com/iddv/timmybot/app

go 1.26
