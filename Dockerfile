FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN python manage.py compile_translations && DJANGO_ENV=production SECRET_KEY=build python manage.py collectstatic --noinput
ENV DJANGO_ENV=production
EXPOSE 8000
CMD ["gunicorn", "dsar.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
