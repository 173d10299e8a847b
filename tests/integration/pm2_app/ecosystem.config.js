// A PM2 ecosystem file as one is found in the wild: an HTTP API in cluster
// mode with a production environment, a Python worker in fork mode, and a
// plain program. tests/integration/test_import_pm2.py imports it with
// `musterctl import pm2` and runs the result under musterd; dump.pm2 beside
// it is what PM2 itself saved after `pm2 start ecosystem.config.js --env
// production` (make-dump beside it regenerates it).
const port = process.env.API_PORT || 3000;

module.exports = {
  apps: [
    {
      name: 'api',
      script: './api.js',
      exec_mode: 'cluster',
      instances: 2,
      node_args: '--max-old-space-size=256',
      args: '--greeting "hello from api"',
      max_memory_restart: '300M',
      kill_timeout: 3000,
      listen_timeout: 8000,
      min_uptime: '2s',
      max_restarts: 5,
      exp_backoff_restart_delay: 100,
      merge_logs: true,
      watch: ['api.js', 'lib'],
      ignore_watch: ['node_modules', '*.log'],
      env: {
        NODE_ENV: 'development',
        PORT: port,
      },
      env_production: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
      },
    },
    {
      name: 'jobs',
      script: 'jobs.py',
      interpreter: 'python3',
      args: ['--queue', 'mail'],
      restart_delay: 1000,
      out_file: './logs/jobs-out.log',
      error_file: './logs/jobs-error.log',
      time: true,
      env: {
        QUEUE_URL: 'redis://127.0.0.1:6379/0',
      },
      env_production: {
        QUEUE_URL: 'redis://queue.internal:6379/0',
      },
    },
    {
      name: 'heartbeat',
      script: 'sleep',
      interpreter: 'none',
      args: '600',
      autorestart: false,
      cron_restart: '0 3 * * *',
    },
  ],
};
